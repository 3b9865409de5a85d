"""get_api_reference in HTTP mode reads no code outside AUTODOCS_ALLOWED_ROOTS, and never shows secrets.

Each route below once led a reply to show module-level values of code outside the roots. Every
test puts the package's code (with a secret in it) outside, serves version 1.0 of the same
package as a wheel from the loopback index, and checks the secret never appears, what was
skipped is said, and the code inside the roots is still read.
"""

from __future__ import annotations

import json
import os
import string
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autodocs.config import Settings
from autodocs.docs.api_model import HIDDEN, shown_value
from autodocs.errors import AutoDocsError
from autodocs.service import AutoDocsService
from tests.conftest import make_settings
from tests.server.test_http import call_tool, http_server
from tests.support.fake_index import FakeIndex
from tests.test_api_reference import _serve_wheels, _wheel

PY = f"python{sys.version_info.major}.{sys.version_info.minor}"
SECRET_CODE = '''"""Settings of the outside package. Set SECRET_KEY to a long random string."""

SECRET_KEY = "outside-secret-value"
DATABASE_URL = "postgres://app:outside-password@db.example/app"


def outside_api(url: str = "https://outside:outside-token@host/") -> None:
    """Only the outside copy has this."""
'''


def _venv(root: Path, cfg: str = "home = /usr/bin\n") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyvenv.cfg").write_text(cfg)
    site = root / "lib" / PY / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    return site


def _dist_info(site: Path, name: str, version: str, *, pth: str | None = None) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "top_level.txt").write_text(f"{name}\n")
    record = f"{name}/__init__.py,,\n"
    if pth is not None:
        (site / f"__editable__.{name}.pth").write_text(pth + "\n")
        record += f"__editable__.{name}.pth,,\n"
    (info / "RECORD").write_text(record)


def _package(folder: Path, name: str, code: str = SECRET_CODE) -> None:
    (folder / name).mkdir(parents=True, exist_ok=True)
    (folder / name / "__init__.py").write_text(code)


class Layout:
    def __init__(self, tmp_path: Path, index: FakeIndex) -> None:
        self.name = f"rootpkg{time.monotonic_ns()}"
        self.allowed = tmp_path / "allowed"
        self.project = self.allowed / "proj"
        self.outside = tmp_path / "outside"
        self.project.mkdir(parents=True)
        self.outside.mkdir()
        (self.project / "requirements.txt").write_text(f"{self.name}\n")
        wheel = _wheel(self.name, "1.0", 'def inside_api() -> None:\n    """From the index."""\n')
        _serve_wheels(index, self.name, {"1.0": wheel})
        self.settings: Settings = make_settings(index, tmp_path / "cache")

    async def reply(self) -> tuple[dict[str, Any], str]:
        """The reply (or the structured error) for the project, and its JSON text."""
        async with AutoDocsService.running(self.settings, allowed_roots=[self.allowed]) as service:
            try:
                reply = await service.get_api_reference(self.name, project_path=str(self.project))
            except AutoDocsError as exc:
                reply = {"error": exc.to_dict()}
        return reply, json.dumps(reply)


def _no_secret(text: str) -> None:
    assert "outside-secret-value" not in text
    assert "outside-password" not in text
    assert "outside_api" not in text and "outside-token" not in text


def _venv_link(layout: Layout) -> str:
    _package(_venv(layout.outside / "venv"), layout.name)
    _dist_info(layout.outside / "venv" / "lib" / PY / "site-packages", layout.name, "9.9")
    os.symlink(layout.outside / "venv", layout.project / ".venv")
    return ".venv/ leads outside"


def _site_packages_link(layout: Layout) -> str:
    site = _venv(layout.project / ".venv")
    site.rmdir()
    outside_site = layout.outside / "site-packages"
    _package(outside_site, layout.name)
    _dist_info(outside_site, layout.name, "9.9")
    os.symlink(outside_site, site)
    return "site-packages leads outside"


def _editable_absolute(layout: Layout) -> str:
    _package(layout.outside / "src", layout.name)
    _dist_info(_venv(layout.project / ".venv"), layout.name, "9.9", pth=str(layout.outside / "src"))
    return "outside the allowed roots"


def _editable_relative(layout: Layout) -> str:
    _package(layout.outside / "src", layout.name)
    up = "../" * 6 + "outside/src"  # site-packages → lib/pythonX.Y → lib → .venv → proj → allowed → tmp
    _dist_info(_venv(layout.project / ".venv"), layout.name, "9.9", pth=up)
    assert (layout.project / ".venv" / "lib" / PY / "site-packages" / up).resolve() == layout.outside / "src"
    return "outside the allowed roots"


def _system_site_packages(layout: Layout) -> str:
    base_site = _venv(layout.outside / "base")
    _package(base_site, layout.name)
    _dist_info(base_site, layout.name, "9.9")
    (layout.outside / "base" / "bin").mkdir()
    cfg = f"home = {layout.outside / 'base' / 'bin'}\ninclude-system-site-packages = true\n"
    _venv(layout.project / ".venv", cfg)
    return "base installation's packages"


def _pth_naming_outside_folder(layout: Layout) -> str:
    """A .pth (not an editable install's) naming an outside folder, and the package a link to it."""
    _package(layout.outside / "lib", layout.name)
    site = _venv(layout.project / ".venv")
    _dist_info(site, layout.name, "9.9", pth=str(layout.outside / "lib"))
    (site / "extra.pth").write_text(f"{layout.outside / 'lib'}\n")
    os.symlink(layout.outside / "lib" / layout.name, site / layout.name)
    return "outside the allowed roots"


ROUTES: dict[str, Callable[[Layout], str]] = {
    "venv-link": _venv_link,
    "site-packages-link": _site_packages_link,
    "editable-pth-absolute": _editable_absolute,
    "editable-pth-relative": _editable_relative,
    "pyvenv-home-system-site-packages": _system_site_packages,
    "pth-naming-an-outside-folder": _pth_naming_outside_folder,
}


@pytest.mark.parametrize("route", list(ROUTES))
async def test_code_outside_the_roots_is_skipped_with_a_warning_never_read(
    route: str, fake_index: FakeIndex, tmp_path: Path
) -> None:
    layout = Layout(tmp_path, fake_index)
    said = ROUTES[route](layout)
    reply, text = await layout.reply()
    _no_secret(text)
    assert said in text  # what was skipped is said, in the reply's warnings or the error
    if "error" not in reply:
        assert reply["source"]["kind"] == "wheel" or reply["version"] == "9.9"


async def test_a_link_inside_the_roots_is_still_followed(fake_index: FakeIndex, tmp_path: Path) -> None:
    layout = Layout(tmp_path, fake_index)
    shared = layout.allowed / "shared"
    _package(shared, layout.name, 'def shared_api() -> None:\n    """Inside the roots."""\n')
    site = _venv(layout.project / ".venv")
    _dist_info(site, layout.name, "2.0")
    os.symlink(shared / layout.name, site / layout.name)
    reply, _ = await layout.reply()
    assert reply["source"]["kind"] == "environment"
    assert [m["path"] for m in reply["members"]] == [f"{layout.name}.shared_api"]
    assert not reply.get("warnings")


async def test_links_out_of_an_installed_package_are_skipped_and_the_rest_is_read(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    layout = Layout(tmp_path, fake_index)
    site = _venv(layout.project / ".venv")
    init = 'from .config import outside_api\nfrom .sub import *\n\n\ndef inside() -> None:\n    """Inside."""\n'
    _package(site, layout.name, init)
    _dist_info(site, layout.name, "3.0")
    (layout.outside / "config.py").write_text(SECRET_CODE)
    _package(layout.outside, "sub", SECRET_CODE)
    os.symlink(layout.outside / "config.py", site / layout.name / "config.py")
    os.symlink(layout.outside / "sub", site / layout.name / "sub")
    reply, text = await layout.reply()
    assert reply["source"]["kind"] == "environment"
    assert f"{layout.name}.inside" in [m["path"] for m in reply["members"]]
    assert "outside-secret-value" not in text and "Only the outside copy has this." not in text
    assert any("config.py leads outside" in w for w in reply["warnings"])
    assert any("sub leads outside" in w for w in reply["warnings"])


async def test_the_copy_of_a_confined_environment_is_bounded(fake_index: FakeIndex, tmp_path: Path) -> None:
    layout = Layout(tmp_path, fake_index)
    layout.settings = make_settings(fake_index, tmp_path / "cache", max_wheel_bytes=1024)
    site = _venv(layout.project / ".venv")
    _package(site, layout.name, "X = 1\n" + "# padding\n" * 3000)  # 30 KB: above 20 x 1 KiB
    _dist_info(site, layout.name, "3.0")
    reply, _ = await layout.reply()
    assert reply["error"]["type"] == "CodeUnavailable"
    assert "AUTODOCS_MAX_WHEEL_BYTES" in " ".join(reply["error"]["suggestions"])
    assert not list((tmp_path / "cache" / "snapshots").glob(f"{layout.name}-*"))  # nothing half-made kept


async def test_secret_looking_values_are_hidden_from_an_environment_and_a_wheel(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    layout = Layout(tmp_path, fake_index)
    code = SECRET_CODE.replace("outside_api", "api") + 'API_TOKEN = "tok-1"\nKEY_COUNT = 3\nDEBUG = True\n'
    code += 'CONFIG = {"password": "pw-2", "host": "db"}\n'
    site = _venv(layout.project / ".venv")
    _package(site, layout.name, code)
    _dist_info(site, layout.name, "3.0")
    async with AutoDocsService.running(layout.settings) as service:  # stdio: any root, secrets still hidden
        environment = await service.get_api_reference(layout.name, project_path=str(layout.project))
        name = f"wheelsecrets{time.monotonic_ns()}"
        _serve_wheels(fake_index, name, {"1.0": _wheel(name, "1.0", code)})
        wheel = await service.get_api_reference(name)
    for reply in (environment, wheel):
        text = json.dumps(reply)
        _no_secret(text.replace("outside_api", ""))
        assert "tok-1" not in text and "pw-2" not in text
        members = {m["path"].rsplit(".", 1)[-1]: m for m in reply["members"]}
        assert members["SECRET_KEY"]["value"] == HIDDEN
        assert members["DATABASE_URL"]["value"] == f"'postgres://{HIDDEN}@db.example/app'"
        assert members["KEY_COUNT"]["value"] == "3"  # plainly not a secret: shown
        assert members["api"]["signature"] == f"api(url: str = 'https://{HIDDEN}@host/') -> None"
        assert "Set SECRET_KEY to a long random string." in text  # docstrings as written


async def test_references_cached_before_the_fix_are_rebuilt(fake_index: FakeIndex, tmp_path: Path) -> None:
    layout = Layout(tmp_path, fake_index)
    site = _venv(layout.project / ".venv")
    _package(site, layout.name, 'SECRET_KEY = "cached-secret"\n')
    _dist_info(site, layout.name, "3.0")
    async with AutoDocsService.running(layout.settings) as service:
        await service.get_api_reference(layout.name, project_path=str(layout.project))
        await service.flush_writes()
        body = await service.store.get_api_reference(service.index_key, layout.name, "3.0", layout.name)
        assert body is not None
        envelope = json.loads(body)
        old_fingerprint = envelope["fingerprint"].split(":", 1)[1]  # what the code before the fix wrote
        assert old_fingerprint.startswith("env:")
        stale = json.loads(body)
        stale["fingerprint"] = old_fingerprint
        stale["reference"]["members"][0]["value"] = "'cached-secret'"
        stale["reference"]["members"][0]["path"] = f"{layout.name}.LEAKED"
        await service.store.put_api_reference(service.index_key, layout.name, "3.0", layout.name, json.dumps(stale), [])
        envelope["fingerprint"] = old_fingerprint
    async with AutoDocsService.running(layout.settings) as service:
        reply = await service.get_api_reference(layout.name, project_path=str(layout.project))
    assert reply["served_from"] == "built"
    assert "LEAKED" not in json.dumps(reply) and "cached-secret" not in json.dumps(reply)


async def test_over_http_the_roots_hold_for_a_venv_link(
    fake_index: FakeIndex, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    """The same rule through the real HTTP server process (AUTODOCS_ALLOWED_ROOTS set)."""
    layout = Layout(tmp_path, fake_index)
    said = _venv_link(layout)
    env = {**cli_env, "AUTODOCS_ALLOWED_ROOTS": str(layout.allowed)}
    with http_server(env) as server, anyio.fail_after(60):
        result = await call_tool(
            server.url, "get_api_reference", {"package_name": layout.name, "project_path": str(layout.project)}
        )
    text = json.dumps(result.structured_content)
    _no_secret(text)
    assert said in text
    assert result.structured_content["source"]["kind"] == "wheel"


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("SECRET_KEY", "'x'", HIDDEN),
        ("github_token", "os.environ['T']", HIDDEN),
        ("DbPassword", "'p'", HIDDEN),
        ("API_KEY", "None", "None"),
        ("URL", "'https://u:p@host/x'", f"'https://{HIDDEN}@host/x'"),
        ("URL", "'https://host/x'", "'https://host/x'"),
        (None, "'s3://key:secret@bucket'", f"'s3://{HIDDEN}@bucket'"),  # a parameter's default
        (None, "('git',)", "('git',)"),
        ("OPTIONS", "dict(api_key='k', retries=3)", f"dict(api_key={HIDDEN!r}, retries=3)"),
        ("OPTIONS", '{"Password": "p", "user": "u"}', f'{{"Password": {HIDDEN!r}, "user": "u"}}'),
    ],
)
def test_shown_value(name: str | None, value: str, shown: str) -> None:
    assert shown_value(name, value) == shown


_SECRETS = st.text(alphabet=string.ascii_letters + string.digits + "-_.~!$&()*+,;=%", min_size=6, max_size=40)


@given(
    scheme=st.sampled_from(["https", "postgres", "redis", "amqp", "git+ssh"]),
    user=st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=12),
    password=_SECRETS,
    quote=st.sampled_from(["'", '"']),
)
def test_no_url_password_survives(scheme: str, user: str, password: str, quote: str) -> None:
    value = f"{quote}{scheme}://{user}:{password}@db.example:5432/app{quote}"
    shown = shown_value("DATABASE_URL_TEMPLATE_OF", value)
    assert shown is not None and password not in shown.replace(HIDDEN, "")
    assert shown_value(None, f"connect({value})") == f"connect({quote}{scheme}://{HIDDEN}@db.example:5432/app{quote})"


@given(name=st.sampled_from(["SECRET_KEY", "api_key", "GithubToken", "db_password", "PASSWORD"]), secret=_SECRETS)
def test_no_secret_named_string_survives(name: str, secret: str) -> None:
    assert shown_value(name, repr(secret)) == HIDDEN
    assert secret not in (shown_value(None, f"dict({name}={secret!r}, n=1)") or "").replace(HIDDEN, "")
