"""The Telegram approval bot (python-telegram-bot's ``Bot``, long polling).

Each round: new drafts go to the admin chat with Approve / Edit / Reject
buttons (auto-approval first, when configured and the risk is under the
bound); messages whose draft changed status are edited to show the outcome
(posted with its link, rejected by whom, blocked by which check); then one
``getUpdates`` call (held up to ``poll_timeout`` s) is handled and confirmed.
Only Telegram user ids in ``actions.approval.admins`` may act: anyone else
gets "not allowed" and an audit row. Every decision is audited.
"""

from __future__ import annotations

import asyncio
import logging
import warnings

from telegram import (
    Bot,
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.error import BadRequest, Conflict, NetworkError, RetryAfter, TelegramError

from chirpflow.action_model import Draft, Gate
from chirpflow.action_settings import ActionSettings
from chirpflow.connectors.actions.approval_text import draft_message, with_outcome
from chirpflow.connectors.actions.store import ActionStore
from chirpflow.errors import ConfigError

log = logging.getLogger(__name__)
NOT_ALLOWED = "not allowed: you are not an admin of this bot"
_OFFSET_KEY = "telegram_offset"


def keyboard(draft_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Approve", callback_data=f"a:{draft_id}"),
                InlineKeyboardButton("Edit", callback_data=f"e:{draft_id}"),
                InlineKeyboardButton("Reject", callback_data=f"r:{draft_id}"),
            ]
        ]
    )


def actor_of(user: User | None) -> str:
    if user is None:
        return "tg:unknown"
    return f"tg:{user.id}" + (f" @{user.username}" if user.username else "")


class ApprovalBot:
    def __init__(
        self, settings: ActionSettings, store: ActionStore, gate: Gate, token: str
    ) -> None:
        approval = settings.approval
        if not token:
            raise ConfigError(
                f"the approval bot needs its BotFather token in {approval.bot_token_env}"
            )
        if not approval.chat_id:
            raise ConfigError("the approval bot needs actions.approval.chat_id (the admin chat)")
        if not approval.admins:
            raise ConfigError("the approval bot needs actions.approval.admins (Telegram user ids)")
        self._settings = settings
        self._chat = approval.chat_id
        self._admins = set(approval.admins)
        self._store = store
        self._gate = gate
        self._bot = Bot(token, base_url=approval.base_url.rstrip("/") + "/bot")

    async def start(self) -> None:
        await self._bot.initialize()

    @property
    def bot(self) -> Bot:
        return self._bot

    async def set_webhook(self, url: str, secret: str) -> None:
        """Telegram POSTs each update to ``url`` with ``secret`` in a header (polling stops)."""
        await self._bot.set_webhook(
            url, secret_token=secret, allowed_updates=["message", "callback_query"]
        )

    async def stop(self) -> None:
        await self._bot.shutdown()

    async def run(self, poll_timeout: int = 25, stop: asyncio.Event | None = None) -> None:
        """Rounds until ``stop``; flood waits and network trouble are waited out, a second
        poller or an active webhook (409) ends the bot with one clear line."""
        while stop is None or not stop.is_set():
            try:
                await self.round(poll_timeout)
            except RetryAfter as err:
                with warnings.catch_warnings():  # its type changes in PTB 23; both are handled
                    warnings.simplefilter("ignore")
                    wait = err.retry_after
                seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
                log.warning("telegram: flood control, waiting %.0f s", seconds)
                await asyncio.sleep(seconds)
            except Conflict as err:
                raise ConfigError(f"telegram: {err} (is another chirpflow bot running?)") from None
            except NetworkError as err:
                log.warning("telegram: %s; retrying in 2 s", err)
                await asyncio.sleep(2)

    # one round
    async def round(self, poll_timeout: int = 25) -> int:
        """Push, refresh, then handle one batch of updates; returns how many were handled."""
        await self.push_drafts()
        await self.refresh_outcomes()
        offset = int(self._store.state(_OFFSET_KEY) or 0)
        updates = await self._bot.get_updates(
            offset=offset or None,
            timeout=poll_timeout,
            allowed_updates=["message", "callback_query"],
            read_timeout=poll_timeout + 10,
        )
        for update in updates:
            try:
                await self.handle(update)
            except TelegramError as err:
                log.warning("telegram: update %s not handled: %s", update.update_id, err)
            self._store.set_state(_OFFSET_KEY, str(update.update_id + 1))
        if updates:
            await self.refresh_outcomes()
        return len(updates)

    async def push_drafts(self) -> None:
        bound = self._settings.approval.auto_approve_below
        for d in self._store.unsent_to_chat():
            if bound is not None and d.status == "pending" and d.risk < bound:
                self._store.decide(d.id, "auto", "auto")
                d = self._store.draft(d.id) or d
            markup = keyboard(d.id) if d.status == "pending" else None
            text = draft_message(d) if d.status == "pending" else with_outcome(d, None, "auto")
            sent = await self._bot.send_message(self._chat, text, reply_markup=markup)
            self._store.set_chat_message(d.id, str(sent.message_id), d.status)

    async def refresh_outcomes(self) -> None:
        for d, x_id, actor in self._store.changed_in_chat():
            markup = keyboard(d.id) if d.status == "pending" else None
            await self._edit(d, with_outcome(d, x_id, actor), markup)
            self._store.set_chat_shown(d.id, d.status)

    async def _edit(self, d: Draft, text: str, markup: InlineKeyboardMarkup | None) -> None:
        try:
            await self._bot.edit_message_text(
                text,
                chat_id=self._chat,
                message_id=int(d.chat_message_id or 0),
                reply_markup=markup,
            )
        except BadRequest as err:
            if "not modified" not in str(err):  # e.g. the message was deleted: move on
                log.warning("telegram: cannot update the message of %s: %s", d.id, err)

    # updates
    async def handle(self, update: Update) -> None:
        if update.callback_query is not None:
            await self._on_button(update.callback_query)
        elif update.message is not None and update.message.text:
            await self._on_message(update.message)

    def _allowed(self, user: User | None, action: str, target: str | None) -> bool:
        ok = user is not None and user.id in self._admins
        if not ok:
            self._store.audit(actor_of(user), action, target, "not an admin", allowed=False)
        return ok

    async def _on_button(self, query: CallbackQuery) -> None:
        verb, _, draft_id = (query.data or "").partition(":")
        action = {"a": "approve", "r": "reject", "e": "edit"}.get(verb)
        if action is None:
            await query.answer("unknown button")
            return
        if not self._allowed(query.from_user, action, draft_id):
            await query.answer(NOT_ALLOWED, show_alert=True)
            return
        actor = actor_of(query.from_user)
        if action == "edit":
            self._store.set_state(f"edit:{query.from_user.id}", draft_id)
            self._store.audit(actor, "edit_start", draft_id)
            await query.answer("Send the new text as a reply")
            await self._bot.send_message(
                self._chat,
                f"New text for {draft_id}: reply to this message.",
                reply_markup=ForceReply(selective=True, input_field_placeholder="new text"),
            )
            return
        result = self._store.decide(draft_id, actor, action)
        await query.answer(result.capitalize())
        await self.refresh_outcomes()

    async def _on_message(self, message: Message) -> None:
        text = message.text or ""
        user = message.from_user
        if text.startswith("/"):
            word, _, rest = text.partition(" ")
            name, _, bot = word[1:].partition("@")
            if bot and bot.lower() != (self._bot.username or "").lower():
                return  # a command for another bot
            if not self._allowed(user, name, None):
                await message.reply_text(NOT_ALLOWED)
                return
            await message.reply_text(self._command(name, rest.strip(), actor_of(user)))
            return
        if user is None or user.id not in self._admins:
            return  # chatter in the admin chat
        draft_id = self._store.state(f"edit:{user.id}")
        if draft_id is None:
            return
        self._store.set_state(f"edit:{user.id}", None)
        verdict = self._gate(text)
        result = self._store.decide(draft_id, actor_of(user), "edit", text, verdict)
        d = self._store.draft(draft_id)
        if d is not None and d.chat_message_id and result in ("pending", "blocked"):
            markup = keyboard(d.id) if d.status == "pending" else None
            await self._edit(d, with_outcome(d, None, actor_of(user)), markup)
            self._store.set_chat_shown(d.id, d.status)
        if result == "blocked":
            await message.reply_text(f"Blocked by {verdict.blocked_by}: {verdict.detail}")
        elif result == "pending":
            await message.reply_text(f"Updated {draft_id}: approve or reject it above.")
        else:
            await message.reply_text(f"Not changed: {result}")

    def _command(self, name: str, arg: str, actor: str) -> str:
        store = self._store
        if name == "queue":
            pending = store.drafts("pending", 20)
            return "\n".join(f"{d.id}: {d.text[:60]}" for d in pending) or "Nothing waiting."
        if name == "pause":
            store.set_paused(True, actor)
            return "Paused: nothing is drafted or posted until /resume."
        if name == "resume":
            store.set_paused(False, actor)
            return "Resumed."
        if name == "stats":
            counts = store.counts()
            return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "No drafts yet."
        if name == "context_add":
            if not arg:
                return "Usage: /context_add <text>"
            version = store.add_context(arg, actor)
            return f"Context v{version} added; /context_approve {version} to use it."
        if name == "context_approve":
            if not arg.isdigit():
                return "Usage: /context_approve <version>"
            ok = store.approve_context(int(arg), actor)
            return f"Context v{arg} is active." if ok else f"No context v{arg}."
        if name == "context_rollback":
            back = store.rollback_context(actor)
            return f"Context v{back} is active again." if back else "Nothing to roll back to."
        return f"Unknown command /{name}. Try /queue /pause /resume /stats /context_add."
