"""Option lists shared by several flows (intake now; matching and meetings later)."""

from bot.i18n import _l
from bot.replies import Option

TOPICS = (
    Option("planning", _l("Planning my studies and time")),
    Option("study_skills", _l("Study skills and exams")),
    Option("finding_way", _l("Finding my way at the institution")),
    Option("social", _l("Meeting people, feeling at home")),
    Option("career", _l("Career and internships")),
    Option("balance", _l("Balancing study, work and life")),
    Option("writing", _l("Writing and language")),
    Option("other", _l("Something else")),
)

WEEKDAYS = (
    Option("mon", _l("Monday")),
    Option("tue", _l("Tuesday")),
    Option("wed", _l("Wednesday")),
    Option("thu", _l("Thursday")),
    Option("fri", _l("Friday")),
    Option("sat", _l("Saturday")),
    Option("sun", _l("Sunday")),
)

DAYPARTS = (
    Option("morning", _l("Mornings")),
    Option("afternoon", _l("Afternoons")),
    Option("evening", _l("Evenings")),
)

LANGUAGE_PREFERENCES = (
    Option("nl", _l("Dutch")),
    Option("en", _l("English")),
    Option("either", _l("Either is fine")),
)

CHANNELS = (
    Option("chat", _l("Chat, here")),
    Option("video", _l("Video call")),
    Option("phone", _l("Phone")),
    Option("email", _l("E-mail")),
    Option("in_person", _l("Meeting in person")),
)

LEARNING = (
    Option("talking", _l("Talking things through")),
    Option("doing", _l("Trying things out and practising")),
    Option("examples", _l("Seeing examples from others")),
    Option("reflecting", _l("Reading and thinking it over on my own")),
)

CADENCES = {
    "weekly": _l("every week"),
    "biweekly": _l("every two weeks"),
    "monthly": _l("every month"),
}
