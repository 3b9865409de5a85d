"""TomlLines: the line of every key and string of a TOML text, whatever way it is written."""

from __future__ import annotations

import json
import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from autodocs.manifests.toml_lines import TomlLines

DOCUMENT = "\n".join(
    [
        '# a comment with "dependencies" = ["x"]',  # 1
        "[project]",  # 2
        'description = """',  # 3
        "[not.a.table]",  # 4
        'dependencies = ["y"]',  # 5
        '"""',  # 6
        "optional-dependencies.fast = ['uvloop', \"orjson\"]  # dotted key",  # 7
        '[ "tool" . \'hatch\' . envs."a.b" ]',  # 8
        "dependencies = [",  # 9
        '  "a\\u0062c",  # escaped',  # 10
        "  '''multi",  # 11
        "line''',",  # 12
        "]",  # 13
        "[[tool.matrix]]",  # 14
        'python = ["3.12", 3]',  # 15
        'inline = { deps = ["z"], when = 1979-05-27T07:32:00Z }',  # 16
        "",
    ]
)


def test_keys_headers_dotted_and_inline_keys_are_located() -> None:
    lines = TomlLines(DOCUMENT)
    assert lines.key_line("project") == 2
    assert lines.key_line("project", "dependencies") is None, "text inside a string is not a key"
    assert lines.key_line("not", "a", "table") is None
    assert lines.key_line("project", "optional-dependencies", "fast") == 7
    assert lines.key_line("tool", "hatch", "envs", "a.b") == 8
    assert lines.key_line("tool", "matrix", "inline", "deps") == 16


def test_strings_are_decoded_and_found_under_their_key() -> None:
    lines = TomlLines(DOCUMENT)
    fast = lines.strings("project", "optional-dependencies", "fast")
    assert (fast.find("orjson"), fast.find("uvloop")) == (7, 7)
    env = lines.strings("tool", "hatch", "envs", "a.b", "dependencies")
    assert env.find("abc") == 10
    assert env.find("multi\nline") == 11
    assert lines.strings("tool", "matrix").find("z") == 16
    assert lines.strings("project", "dependencies").find("y") is None


def test_repeated_string_maps_to_successive_lines() -> None:
    found = TomlLines('x = [\n "a",\n "a",\n]\n').strings("x")
    assert [found.find("a"), found.find("a")] == [2, 3]


def test_unexpected_text_never_raises() -> None:
    lines = TomlLines('a = ["x"]\n= oops [[\n')
    assert lines.strings("a").find("x") == 1
    assert lines.key_line("oops") is None


_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x7f"), max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_TEXT, st.lists(_TEXT, max_size=4), max_size=4), st.booleans())
def test_every_string_of_any_valid_document_is_found_on_its_line(tables: dict[str, list[str]], one_line: bool) -> None:
    text = ""
    expected: list[tuple[str, str, int]] = []
    for key, values in tables.items():
        text += f"[{json.dumps(key, ensure_ascii=False)}]\n"
        header = text.count("\n")
        if one_line:
            text += "deps = [" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]\n"
            expected += [(key, value, header + 1) for value in values]
        else:
            text += "deps = [\n"
            for value in values:
                text += f"  {json.dumps(value, ensure_ascii=False)},\n"
                expected.append((key, value, text.count("\n")))
            text += "]\n"
    assert tomllib.loads(text) == {key: {"deps": values} for key, values in tables.items()}
    lines = TomlLines(text)
    finders = {key: lines.strings(key, "deps") for key in tables}
    for key, value, line in expected:
        assert finders[key].find(value) == line
