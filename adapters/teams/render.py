"""Pure rendering: neutral `Outgoing` replies into Bot Framework message activities for Teams.

- Text alone is a markdown message; text with buttons, a choice list or a form is an Adaptive
  Card (built with the Teams SDK's card models) whose actions are `Action.Execute`, so Teams
  sends an `adaptiveCard/action` invoke and shows the card we answer with (`answered_card`,
  `form_card` with errors).
- At most `BUTTON_LIMIT` buttons; more options become a choice list with a send button.
- Long text is split into several messages of at most `TEXT_LIMIT` characters (Teams refuses
  activities above about 28 KB).
- Files: in a personal chat each file is offered with a file consent card (`consent_card`); in
  a shared space images are shown inline and other files are left to the personal chat.
- Mentions: only those the bot made itself (`Outgoing.mentions`) stay `<at>…</at>` with a
  `mention` entity for exactly that user, and never in a one-to-one chat. Anything else that
  looks like `<at>` is escaped here again, whatever produced it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from typing import Any

from microsoft_teams.cards import (
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    DateInput,
    ExecuteAction,
    Image,
    NumberInput,
    TextBlock,
    TextInput,
)

from adapters.teams import ids
from adapters.teams.escape import escape
from bot.replies import Attachment, FieldKind, Outgoing, OutgoingForm

CARD = "application/vnd.microsoft.card.adaptive"
FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"
TEXT_LIMIT = 12000
BUTTON_LIMIT = 5
EXPANDED_LIMIT = 10
LABEL_LIMIT = 80
INLINE_IMAGE_LIMIT = 1_000_000
Activity = dict[str, Any]
Mention = tuple[str, str]  # (user id, name as shown)

_AT = re.compile(r"<at>(.*?)</at>|<at", re.DOTALL | re.IGNORECASE)


def mention_text(name: str) -> str:
    """How a mention the bot makes appears in a message's text."""
    return f"<at>{escape(name)}</at>"


def _mentions(message: Outgoing) -> tuple[Mention, ...]:
    return tuple((m.user_id, m.name) for m in message.mentions)


def with_mentions(text: str, mentions: Sequence[Mention], shared: bool) -> tuple[str, list]:
    """The text with only the bot's own mentions live, and their `mention` entities."""
    allowed = {mention_text(name): (user, name) for user, name in mentions} if shared else {}
    used: dict[str, Mention] = {}

    def keep(match: re.Match[str]) -> str:
        if match.group(0) in allowed:
            used[match.group(0)] = allowed[match.group(0)]
            return match.group(0)
        ours = {mention_text(n) for _, n in mentions}
        if match.group(1) is not None and match.group(0) in ours:
            return match.group(1)  # a one-to-one chat: the name, not a mention
        return "&lt;at" + match.group(0)[3:].replace("<", "&lt;").replace(">", "&gt;")

    text = _AT.sub(keep, text)  # a forged or half tag cannot survive
    entities = [
        {"type": "mention", "text": shown, "mentioned": {"id": user, "name": name}}
        for shown, (user, name) in used.items()
    ]
    return text, entities


def paragraphs(text: str) -> str:
    """Teams' markdown joins single line breaks: make each line its own paragraph."""
    return "\n\n".join(line for line in text.split("\n") if line.strip()) or " "


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    pieces, rest = [], text.strip("\n")
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n"), window.rfind(" "))
        cut = cut if cut >= limit // 2 else limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*pieces, rest] if rest else pieces


def _label(text: str) -> str:
    return text if len(text) <= LABEL_LIMIT else text[: LABEL_LIMIT - 1] + "…"


def _card_activity(card: AdaptiveCard, entities: list) -> Activity:
    content = card.model_dump(by_alias=True, exclude_none=True)
    if entities:
        content["msteams"] = {"entities": entities}
    return {"type": "message", "attachments": [{"contentType": CARD, "content": content}]}


def _text_blocks(text: str) -> list[CardElement]:
    return [TextBlock(text=paragraphs(piece), wrap=True) for piece in split_text(text) or [" "]]


def _choice_elements(message: Outgoing, question: str) -> tuple[list, list]:
    """Body elements and actions for the message's options."""
    token = message.choice_token or ""
    options = message.choices
    if not options:
        return [], []
    if not message.multiple and len(options) <= BUTTON_LIMIT:
        actions = [
            ExecuteAction(
                title=_label(o.label),
                verb=ids.VERB,
                data=ids.choice_data(token, o.value, o.label, question),
            )
            for o in options
        ]
        return [], actions
    pick = ChoiceSetInput(
        id=ids.PICK_INPUT,
        is_multi_select=message.multiple,
        style="expanded" if len(options) <= EXPANDED_LIMIT else "compact",
        choices=[Choice(title=_label(o.label), value=o.value) for o in options],
        is_required=True,
    )
    body: list = [pick]
    if message.multiple_hint:
        body.insert(0, TextBlock(text=message.multiple_hint, wrap=True, is_subtle=True))
    pairs = [[o.value, o.label] for o in options]
    submit = ExecuteAction(
        title="✓", verb=ids.VERB, data=ids.picked_data(token, pairs, question), style="positive"
    )
    return body, [submit]


def form_elements(
    form: OutgoingForm,
    question: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> tuple[list, list]:
    """The form's inputs (filled in with `values`, each followed by its error) and its button."""
    values, errors = values or {}, errors or {}
    body: list = []
    for f in form.fields:
        common: dict[str, Any] = {
            "id": ids.field_input(f.name),
            "label": f.label,
            "is_required": f.required,
        }
        given = values.get(f.name)
        if f.kind is FieldKind.NUMBER:
            element: Any = NumberInput(**common)
            if given and given.lstrip("-").isdigit():
                element.value = int(given)
        elif f.kind is FieldKind.DATE:
            element = DateInput(**common, value=given or None)
        else:
            element = TextInput(
                **common,
                is_multiline=f.kind is FieldKind.LONG_TEXT,
                max_length=max(1, f.max_length),
                value=given or None,
            )
        body.append(element)
        if f.name in errors:
            body.append(TextBlock(text=escape(errors[f.name]), wrap=True, color="Attention"))
    loose = [text for name, text in errors.items() if name not in {f.name for f in form.fields}]
    if loose:
        body.insert(0, TextBlock(text=escape(" ".join(loose)), wrap=True, color="Attention"))
    submit = ExecuteAction(
        title=_label(form.submit or "OK"),
        verb=ids.VERB,
        data=ids.form_data(form, question),
        style="positive",
    )
    return body, [submit]


def render(message: Outgoing, shared: bool) -> list[Activity]:
    """The activities to post for `message`; `shared` is any chat but a one-to-one chat."""
    text, entities = with_mentions(message.text, _mentions(message), shared)
    controls, actions = _choice_elements(message, text)
    if message.form is not None:
        body, submit = form_elements(message.form, text)
        controls, actions = controls + body, actions + submit
    pieces = split_text(text) or [" "]
    activities: list[Activity] = []
    for piece in pieces[:-1] if controls or actions else pieces:
        activity: Activity = {
            "type": "message",
            "text": paragraphs(piece),
            "textFormat": "markdown",
        }
        present = [e for e in entities if e["text"] in piece]
        if present:
            activity["entities"] = present
        activities.append(activity)
    if controls or actions:
        card = AdaptiveCard(body=[*_text_blocks(pieces[-1]), *controls], actions=actions)
        activities.append(_card_activity(card, [e for e in entities if e["text"] in pieces[-1]]))
    if shared:
        activities.extend(inline_files(message.files))
    return activities


def answered_card(question: str, labels: Sequence[str]) -> dict[str, Any]:
    """The card after its question was answered: the question, then what was chosen."""
    answer = ", ".join(label for label in labels if label) or "✓"
    card = AdaptiveCard(
        body=[
            *_text_blocks(question),
            TextBlock(text=f"✓ {escape(answer)}", wrap=True, color="Good", weight="Bolder"),
        ]
    )
    return card.model_dump(by_alias=True, exclude_none=True)


def form_card(
    form: OutgoingForm, question: str, values: dict[str, str], errors: dict[str, str]
) -> dict[str, Any]:
    """The form again, as it was filled in, with the core's reasons under the fields."""
    body, actions = form_elements(form, question, values, errors)
    card = AdaptiveCard(body=[*_text_blocks(question), *body], actions=actions)
    return card.model_dump(by_alias=True, exclude_none=True)


def consent_card(file: Attachment, file_id: str) -> Activity:
    """Ask to put `file` into the person's OneDrive (Teams' file consent card)."""
    context = {"file": file_id}
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": FILE_CONSENT,
                "name": file.filename,
                "content": {
                    "description": file.filename,
                    "sizeInBytes": len(file.content),
                    "acceptContext": context,
                    "declineContext": context,
                },
            }
        ],
    }


def file_info(upload: dict[str, Any]) -> Activity:
    """The uploaded file, shown in the chat (after the person accepted it)."""
    name = str(upload.get("name") or "")
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": FILE_INFO,
                "contentUrl": upload.get("contentUrl"),
                "name": name,
                "content": {
                    "uniqueId": upload.get("uniqueId"),
                    "fileType": upload.get("fileType") or name.rsplit(".", 1)[-1],
                },
            }
        ],
    }


def inline_files(files: Sequence[Attachment]) -> list[Activity]:
    """Images small enough to show inline in a shared space; other files are not posted."""
    images = [
        Image(
            url=f"data:{f.mimetype};base64,{base64.b64encode(f.content).decode()}",
            alt_text=f.filename,
        )
        for f in files
        if f.mimetype.startswith("image/") and len(f.content) <= INLINE_IMAGE_LIMIT
    ]
    if not images:
        return []
    return [_card_activity(AdaptiveCard(body=images), [])]
