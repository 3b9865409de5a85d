"""What a badge is: an image URL from a badge service, or one whose path names a badge."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["BADGE_HINT", "is_badge_url"]

#: Hosts that serve nothing but badges.
_BADGE_HOSTS = frozenset(
    {
        "img.shields.io",
        "shields.io",
        "badge.fury.io",
        "badgen.net",
        "badges.gitter.im",
        "travis-ci.org",
        "travis-ci.com",
        "api.travis-ci.org",
        "api.travis-ci.com",
        "circleci.com",
        "dl.circleci.com",
        "ci.appveyor.com",
        "coveralls.io",
        "codecov.io",
        "app.codecov.io",
        "api.codacy.com",
        "app.codacy.com",
        "results.pre-commit.ci",
        "pepy.tech",
        "static.pepy.tech",
        "requires.io",
        "snyk.io",
        "api.codeclimate.com",
        "codeclimate.com",
        "bestpractices.coreinfrastructure.org",
        "www.bestpractices.dev",
        "sonarcloud.io",
        "deepwiki.com",
        "codspeed.io",
        "mybinder.org",
        "colab.research.google.com",
        "www.codetriage.com",
        "img.youtube.com",
    }
)
#: Words in an image URL's path or query that name a badge.
_BADGE_WORDS = ("badge", "shield", "build/status", "buildstatus", "/status.svg", "/status.png")
#: Cheap test before any parsing: a text without one of these has no badge URL.
BADGE_HINT = re.compile("|".join(re.escape(word) for word in (*_BADGE_HOSTS, *_BADGE_WORDS)), re.IGNORECASE)


def is_badge_url(url: str) -> bool:
    """Whether an image URL is a badge: a badge service's host, or a path or query naming a
    badge, a shield or a build status."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if host in _BADGE_HOSTS or "badge" in host:  # badges.gitter.im, coverage-badge.<worker host>
        return True
    tail = f"{parts.path}?{parts.query}".lower()
    return any(word in tail for word in _BADGE_WORDS)
