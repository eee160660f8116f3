"""Links built from untrusted values: the return path after sign-in and path segments from ids."""

from __future__ import annotations

import pytest

from dashboard.links import safe_next, segment


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/events?type=guest.created",
        "/deliveries/6f1c-42",
        "/profiles?q=ann%40example.com",
        "/profiles?q=M%C3%BCller",
        "/events#top",
        "/audit?operator=alice&cursor=abc",
    ],
)
def test_safe_next_keeps_paths_on_this_dashboard(target):
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "//evil.example",
        "///evil.example",
        "////evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r/evil.example",
        "\t//evil.example",
        " //evil.example",
        "/ /evil.example",
        "/\x00",
        "/\x7f",
        "/\x0b/evil",
        "/\x0c/evil",
        "/%09/evil.example",
        "/%0A/evil.example",
        "/%0d%0aSet-Cookie:%20x=1",
        "/%00",
        "/\\evil.example",
        "\\\\evil.example",
        "/\\/evil.example",
        "/%5Cevil.example",
        "/%5c%5cevil",
        "/%2F%2Fevil.example",
        "/%2f/evil.example",
        "/%2F/evil.example",
        "https:evil.example",
        "https://evil.example",
        "http:/evil.example",
        "HTTPS://evil.example",
        "javascript:alert(1)",
        "data:text/html,x",
        "evil.example",
        "evil.example/path",
        ".",
        "..",
        "/./evil",
        "/../evil",
        "/a/../..//evil.example",
        "/%2e%2e/%2e%2e//evil.example",
        "/%2E/x",
        "/\u00fcber",
        "/\u2028",
        "/\uff0f\uff0fevil.example",
        "/login",
        "/login?next=/",
        "/logout",
        "/x" * 1001,
    ],
)
def test_safe_next_sends_anything_else_home(target):
    assert safe_next(target) == "/"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("6f1c-42", "6f1c-42"),
        (42, "42"),
        ("../../logout", "..%2F..%2Flogout"),
        ("a/b", "a%2Fb"),
        ("a?b#c", "a%3Fb%23c"),
        ("..", "%252E%252E"),
        (".", "%252E"),
        ("...", "%252E%252E%252E"),
        ("<script>", "%3Cscript%3E"),
        ("\u00fc", "%C3%BC"),
        ("a b", "a%20b"),
        ("%2e%2e", "%252e%252e"),
    ],
)
def test_segment_keeps_an_id_inside_one_path_segment(value, expected):
    assert segment(value) == expected
    assert "/" not in segment(value)
