"""Discord rendering: limits respected, article text inert."""

from bot.embeds import EMBED_TOTAL_LIMIT, answer_embed, clip, safe, stories_embed
from index import Answer, Story


def long_answer() -> Answer:
    quote = ("Background sentence words " * 200) + "Jane Roe won the seat." + (" Trailing words" * 200)
    start = quote.index("Jane Roe")
    story = Story(title="A very long headline " * 40, url="https://x.test/a", published="2025-01-02", source="W" * 500)
    return Answer(
        question="who won?",
        text="Jane Roe",
        score=0.8,
        quote=quote,
        answer_start=start,
        answer_end=start + len("Jane Roe"),
        story=story,
    )


def test_long_titles_and_quotes_fit_discord_limits():
    embed = answer_embed(long_answer())
    assert len(embed.title) <= 256 and embed.title.endswith("…")
    assert len(embed.description) <= 4096
    assert all(len(field.value) <= 1024 for field in embed.fields)
    assert len(embed) <= EMBED_TOTAL_LIMIT
    assert "__**Jane Roe**__" in embed.description  # the answer survives the cut, highlighted


def test_article_text_cannot_format_or_mention():
    text = safe("@everyone **bold** <@&123456789012345678> [link](https://evil.test) `code`")
    assert "@everyone" not in text and "**bold**" not in text and "<@&123456789012345678>" not in text
    assert "\\[link]" in text and "\\`code\\`" in text  # shown literally, not rendered
    assert "@\u200beveryone" in text


def test_clip_cuts_at_a_word_and_marks_it():
    assert clip("one two three four", 12) == "one two…"
    assert clip("short", 10) == "short"


def test_non_web_urls_are_not_links():
    embed = stories_embed([Story("Local file story", "file:///tmp/a.md", None, "")], "Latest stories")
    assert "file:///tmp/a.md" not in embed.description and "undated" in embed.description


HOSTILE_URL = "https://x.test/a b)[click here](https://evil.test"


def test_malformed_story_urls_are_never_linked():
    from bot.embeds import web_url

    for url in [HOSTILE_URL, "https://x.test/a)", "javascript:alert(1)", "https://", "http://x.test/" + "a" * 3000]:
        assert web_url(url) is None, url
    assert web_url("https://news.example.org/2025/10/21/story?id=3&x=y#top") is not None
    stories = [Story(title="Harmless *title*", url=HOSTILE_URL, published="2025-01-02", source="")]
    text = stories_embed(stories, "Latest").description
    assert "](https://evil.test" not in text and "[click here]" not in text
    assert "\\*title\\*" in text  # Markdown in the title shown as typed, not applied
    answer = long_answer()
    hostile = Answer(**{**answer.__dict__, "story": Story("**Bold** [x](https://evil.test)", HOSTILE_URL, None, "")})
    embed = answer_embed(hostile)
    assert embed.url is None and "\\*\\*Bold\\*\\*" in embed.title and "\\[x](" in embed.title
