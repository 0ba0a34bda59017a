"""Operator commands: `/reindex`, `/sources add|remove|list|import|export`, `/remove`, `/status` (who
operates: bot/checks.py)."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.checks import admin_only
from bot.embeds import clip, outgoing, safe, timestamp
from bot.jobs import BackgroundJob
from bot.render import plural
from bot.settings import in_setting_terms
from index import import_opml, refuse_oversized, write_opml

if TYPE_CHECKING:
    from bot.app import NewsBot
    from bot.cogs.follows import FollowsCog

log = logging.getLogger(__name__)

# Discord lets a bot edit its reply to an interaction for 15 minutes; stop a little before.
INTERACTION_TOKEN_SECONDS = 14 * 60


def progress_text(job: BackgroundJob) -> str:
    state = job.state
    if state.finished:
        if state.error:
            return f"Reindex failed after {state.seconds:.1f} s: {state.error}. The previous index is still in use."
        return f"Reindex finished in {state.seconds:.1f} s: {state.result}."
    if state.total:
        return f"Reindexing… re-embedded {state.done:,} / {state.total:,} passages."
    return "Reindexing… waiting to start. Questions are still answered from the current index."


class AdminCog(commands.Cog):
    def __init__(self, bot: NewsBot) -> None:
        self.bot = bot
        self.job: BackgroundJob | None = None
        self._job_interaction: discord.Interaction | None = None
        self._job_message: discord.Message | None = None  # progress as a channel message, see below
        self._last_report = ""

    async def cog_load(self) -> None:
        if self.bot.settings.poll_sources:
            self.poll_sources.start()

    async def cog_unload(self) -> None:
        self.report_progress.cancel()
        self.poll_sources.cancel()

    # -- /reindex -------------------------------------------------------------------------------

    @app_commands.command(name="reindex", description="Re-embed the whole index and re-read all sources (operators)")
    @admin_only()
    async def reindex(self, interaction: discord.Interaction) -> None:
        if self.job is not None and self.job.running:
            await interaction.response.send_message(
                **outgoing(f"A reindex is already running: {progress_text(self.job)}", ephemeral=True)
            )
            return
        library = self.bot.library

        def work(progress) -> str:
            # Re-embed first, so articles the sources add next are embedded with the same model.
            count = library.reindex(progress)
            summary = f"{count:,} passages re-embedded"
            if library.sources():
                report = library.poll(only_due=False)
                summary += f"; {report.line()}"
            return summary

        self.job = BackgroundJob("reindex", work)
        self._job_interaction, self._job_message = interaction, None
        await interaction.response.send_message(**outgoing(progress_text(self.job)))
        self._last_report = progress_text(self.job)
        self.job.start()
        if not self.report_progress.is_running():
            self.report_progress.start()

    @tasks.loop(seconds=2)
    async def report_progress(self) -> None:
        """Edit the /reindex message as the job moves, at a pace Discord's rate limits allow."""
        job, interaction = self.job, self._job_interaction
        if job is None or interaction is None:
            self.report_progress.stop()
            return
        text = progress_text(job)
        if text != self._last_report:
            try:
                await self._show_progress(interaction, text)
                self._last_report = text
            except (discord.HTTPException, discord.ClientException) as exc:
                log.warning("could not update the reindex message: %s", exc)
        if job.state.finished:
            self.report_progress.stop()

    async def _show_progress(self, interaction: discord.Interaction, text: str) -> None:
        """Edit the /reindex reply while its interaction token lives (15 minutes); a longer reindex
        goes on in a channel message the bot owns, which has no such limit."""
        if self._job_message is not None:
            await self._job_message.edit(**outgoing(text))
            return
        age = (discord.utils.utcnow() - interaction.created_at).total_seconds()
        if age < INTERACTION_TOKEN_SECONDS:
            try:
                await interaction.edit_original_response(**outgoing(text))
                return
            except discord.NotFound:  # the token expired (or the reply was deleted)
                pass
        if interaction.channel is None:
            raise discord.ClientException("the /reindex channel is gone")
        self._job_message = await cast(discord.abc.Messageable, interaction.channel).send(**outgoing(text))

    # -- /sources -------------------------------------------------------------------------------

    sources = app_commands.Group(name="sources", description="The news sources the bot ingests (operators)")

    @sources.command(name="list", description="List the configured news sources and how their polls go")
    @admin_only()
    async def sources_list(self, interaction: discord.Interaction) -> None:
        sources = await asyncio.to_thread(self.bot.library.sources)
        if not sources:
            await interaction.response.send_message(
                **outgoing("No sources yet; add one with /sources add.", ephemeral=True)
            )
            return
        text = clip("\n".join(map(source_line, sources)), 2000)
        await interaction.response.send_message(**outgoing(text, ephemeral=True))

    @sources.command(name="add", description="Add a news source (an RSS/Atom feed or article URL) and read it now")
    @app_commands.describe(
        location="an http(s) RSS/Atom feed or article URL (files and folders: `newsbot sources add` on the host)",
        name="a short name for it",
        interval_minutes="how often to poll it (default: the bot's setting)",
    )
    @admin_only()
    async def sources_add(
        self,
        interaction: discord.Interaction,
        location: str,
        name: str | None = None,
        interval_minutes: app_commands.Range[float, 1, 10080] | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        library = self.bot.library
        source = await asyncio.to_thread(library.add_source, location, name, interval_minutes, web_only=True)
        report = await asyncio.to_thread(library.poll, source_ids=[source.id])
        source = await asyncio.to_thread(library.source, source.id)  # unnamed, a feed is named by its title now
        text = f"Added source `{source.id}` **{safe(source.name)}** and read it: {report.line()}"
        if report.failures:
            text += f"\n{safe(report.failures[0])}"
        await interaction.followup.send(**outgoing(clip(text, 2000), ephemeral=True))

    @sources.command(name="import", description="Add every feed an OPML file lists (a feed reader's export)")
    @app_commands.describe(
        file="the OPML file a feed reader exported",
        check="read each feed once first and leave out those that fail (default: yes)",
    )
    @admin_only()
    async def sources_import(
        self, interaction: discord.Interaction, file: discord.Attachment, check: bool = True
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        refuse_oversized(file.size)  # said before it is downloaded
        library = self.bot.library
        probe = library.probe_source if check else None
        report = await asyncio.to_thread(import_opml, await file.read(), library.add_source, probe)
        lines = [f"{report.summary().capitalize()}.", *(in_setting_terms(line) for line in report.lines)]
        text = "\n".join(safe(line) for line in lines)
        if len(text) <= 2000:
            await interaction.followup.send(**outgoing(text, ephemeral=True))
            return
        whole = discord.File(io.BytesIO("\n".join(lines).encode("utf-8")), filename="import-report.txt")
        await interaction.followup.send(**outgoing(clip(text, 1900), ephemeral=True, file=whole))

    @sources.command(name="export", description="The web sources as an OPML file, for a feed reader to import")
    @admin_only()
    async def sources_export(self, interaction: discord.Interaction) -> None:
        sources = await asyncio.to_thread(self.bot.library.sources)
        opml, _ = write_opml(sources, shown=True)  # a password or key in an address stays on the host
        feeds = plural(opml.count("<outline "), "feed")
        text = f"{feeds} as OPML; credentials in addresses are masked (`newsbot sources export` keeps them)."
        upload = discord.File(io.BytesIO(opml.encode("utf-8")), filename="newsbot-sources.opml")
        await interaction.response.send_message(**outgoing(text, ephemeral=True, file=upload))

    @sources.command(name="remove", description="Stop reading a source (stories stay; its follows stop)")
    @app_commands.describe(source_id="the id shown by /sources list")
    @admin_only()
    async def sources_remove(self, interaction: discord.Interaction, source_id: int) -> None:
        source = await asyncio.to_thread(self.bot.library.remove_source, source_id)
        await interaction.response.send_message(
            **outgoing(f"Removed source `{source.id}` **{safe(source.name)}**.", ephemeral=True)
        )

    # -- /remove --------------------------------------------------------------------------------

    @app_commands.command(name="remove", description="Take articles out of the index, by URL or id (operators)")
    @app_commands.describe(articles="the article's URL (as /latest links it) or its id; several, space-separated")
    @admin_only()
    async def remove(self, interaction: discord.Interaction, articles: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        removed, unknown = await asyncio.to_thread(self.bot.library.remove, articles.split())
        lines = [
            f"Removed `{article_id}` **{safe(clip(story.title or story.url, 200))}**." for article_id, story in removed
        ]
        lines += [f"No article with the URL or id `{safe(clip(reference, 200))}`." for reference in unknown]
        await interaction.followup.send(
            **outgoing(clip("\n".join(lines) or "Nothing to remove.", 2000), ephemeral=True)
        )

    # -- polling --------------------------------------------------------------------------------

    @tasks.loop(minutes=1)
    async def poll_sources(self) -> None:
        """Read the sources that are due, on a thread; a slow or broken feed never blocks the bot."""
        if self.job is not None and self.job.running:
            return  # a reindex polls every source itself
        try:
            report = await asyncio.to_thread(self.bot.library.poll)
        except Exception:  # one bad pass must not end the loop
            log.exception("polling the sources failed")
            return
        if report.sources:
            log.info("%s", report.line())

    # -- /status --------------------------------------------------------------------------------

    @app_commands.command(name="status", description="What the index holds (operators)")
    @admin_only()
    async def status(self, interaction: discord.Interaction) -> None:
        stats = await asyncio.to_thread(self.bot.library.stats)
        embed = discord.Embed(title="newsbot status", colour=discord.Colour.blurple())
        embed.add_field(name="Articles", value=f"{stats['articles']:,}")
        embed.add_field(name="Passages", value=f"{stats['passages']:,}")
        embed.add_field(name="Last update", value=timestamp(stats["last_update"], "R"))
        embed.add_field(name="Model", value=safe(stats["configured_model"]))
        embed.add_field(name="Uptime", value=_duration(self.bot.uptime()))
        embed.add_field(name="Sources", value=f"{stats['sources']} ({stats['failing_sources']} failing)")
        follows = cast("FollowsCog | None", self.bot.get_cog("FollowsCog"))
        if follows is not None:
            embed.add_field(name="Follow delivery", value=delivery_text(follows.health), inline=False)
        if self.job is not None and self.job.running:
            embed.add_field(name="Reindex", value=progress_text(self.job), inline=False)
        await interaction.response.send_message(**outgoing(embed=embed, ephemeral=True))


def delivery_text(health) -> str:
    """The follow loop's health in one line (never the error's text: it can name a server)."""
    if health.failing:
        since = f", last good pass {timestamp(health.last_ok.isoformat(), 'R')}" if health.last_ok else ""
        return f"failing ({health.error}) {timestamp(health.last_failed.isoformat(), 'R')}{since}; retried every pass"
    if health.last_ok is None:
        return "no pass yet"
    return f"ok, last pass {timestamp(health.last_ok.isoformat(), 'R')}"


def source_line(source) -> str:
    source = source.shown()
    health = "ok" if not source.failing else f"failing ×{source.failures}: {clip(source.last_error or '', 200)}"
    polled = f", last read {timestamp(source.last_polled_at, 'R')}" if source.last_polled_at else ""
    return (
        f"`{source.id}` **{safe(clip(source.name, 80))}** ({source.kind}) {safe(clip(source.location, 200))}"
        f" — {safe(health)}{polled}"
    )


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h {minutes}m" if days else f"{hours}h {minutes}m {secs}s"


async def setup(bot: NewsBot) -> None:
    await bot.add_cog(AdminCog(bot))
