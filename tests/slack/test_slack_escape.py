from hypothesis import given
from hypothesis import strategies as st

from adapters.slack import SlackAdapter, escape
from adapters.slack.parse import plain_text


def test_broadcasts_mentions_and_links_become_inert() -> None:
    assert escape("<!channel>") == "&lt;!channel&gt;"
    assert escape("hi <@U123>") == "hi &lt;@U123&gt;"
    assert escape("<https://x|y>") == "&lt;https://x|y&gt;"
    assert escape("Tom & Jerry") == "Tom &amp; Jerry"


def test_an_already_escaped_text_is_escaped_again_not_trusted() -> None:
    assert escape("&lt;!here&gt;") == "&amp;lt;!here&amp;gt;"


def test_nothing_else_is_touched() -> None:
    text = "*bold* _it_ `code` ' \" é 🙂 | ^"
    assert escape(text) == text


def test_the_adapter_escapes_like_the_module() -> None:
    assert SlackAdapter.escape(None, "<!everyone>") == "&lt;!everyone&gt;"  # type: ignore[arg-type]


@given(st.text())
def test_escaped_text_has_no_markup_and_reads_back_as_typed(text: str) -> None:
    escaped = escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert all(
        escaped[i:].startswith(("&amp;", "&lt;", "&gt;")) for i, c in enumerate(escaped) if c == "&"
    )
    unescaped = escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped == text


def test_incoming_markup_reads_as_typed() -> None:
    assert plain_text("&lt;b&gt; &amp;amp;") == "<b> &amp;"
    assert plain_text("<@U1> and <@U2|bram>") == "@U1 and @U2"
    assert plain_text("<@UBOT> hallo", strip_user="UBOT") == "hallo"
    assert (
        plain_text("see <https://x.org|x.org> or <https://y.org>") == "see x.org or https://y.org"
    )
    assert plain_text("<!here> <!subteam^S1|@mentors> <#C1|general>") == "@here @mentors #general"
    assert plain_text("<mailto:a@b.nl|a@b.nl>") == "a@b.nl"
