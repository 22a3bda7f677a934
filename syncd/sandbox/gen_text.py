"""Words for the generated project history: people, titles, ADF descriptions and hostile text.

Everything here is a pure function of a `random.Random`, so a seed gives the same words every time.
"""

from __future__ import annotations

import random
from typing import Any

Json = dict[str, Any]

FIRST = ["Priya", "Marco", "Aiko", "Tomás", "Lena", "Kwame", "Sofia", "Jonas", "Mei", "Ravi", "Olga", "Diego",
         "Hana", "Noah", "Fatima", "Lukas", "Amara", "Ivan", "Chloé", "Kenji", "Zara", "Emil", "Nadia", "Oscar",
         "Yusuf", "Greta", "Mateo", "Ines", "Arjun", "Freya", "Tariq", "Elena", "Sven", "Lucía", "Kofi", "Anya"]
LAST = ["Nair", "Rossi", "Tanaka", "García", "Fischer", "Mensah", "Costa", "Berg", "Chen", "Iyer", "Petrova",
        "López", "Kim", "Walsh", "Haddad", "Wagner", "Okafor", "Novak", "Martin", "Sato", "Ali", "Lund", "Kowalski",
        "Meyer", "Demir", "Olsen", "Silva", "Moreau", "Shah", "Jensen", "Aziz", "Popescu", "Holm", "Ortiz", "Boateng"]

# Per project: (epic themes, components, nouns the stories talk about)
PROJECT_WORDS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "WID": (["Checkout redesign", "Saved carts", "Gift cards", "Order tracking", "Guest checkout", "Refund flow",
             "Wishlist sharing", "Promo engine", "Address autocomplete", "Invoice PDFs", "Loyalty points",
             "Product reviews", "Search relevance", "One-click reorder", "Tax rules v2", "Subscription billing"],
            ["API", "Web", "Payments", "Mobile"],
            ["cart", "checkout page", "payment form", "order history", "coupon field", "shipping options",
             "invoice", "receipt email", "product page", "search results", "refund request", "wishlist"]),
    "GAD": (["Offline mode", "Firmware OTA updates", "Battery telemetry", "Pairing wizard", "Device sharing",
             "Usage dashboards", "Alerts and notifications", "Bluetooth LE reconnect", "Fleet management",
             "Sensor calibration", "Data export", "Companion widget"],
            ["Firmware", "Cloud", "App"],
            ["device list", "pairing screen", "firmware image", "sync job", "telemetry stream", "alert rule",
             "battery graph", "settings screen", "export file", "sensor reading"]),
    "OPS": (["Observability", "CI speed-up", "Cost reduction", "Disaster recovery"],
            ["Infra", "CI", "Monitoring"],
            ["staging cluster", "CI runner", "backup job", "alert", "dashboard", "TLS certificate", "database replica",
             "log pipeline", "deploy script", "DNS record"]),
}

VERBS = ["Add", "Support", "Show", "Allow editing of", "Validate", "Cache", "Paginate", "Localize", "Redesign",
         "Speed up", "Track", "Export", "Filter", "Sort", "Retry", "Audit"]
QUALIFIERS = ["for guests", "on mobile", "for admins", "in the API", "behind a feature flag", "for EU customers",
              "with keyboard navigation", "in dark mode", "for large accounts", "after login", "", "", ""]
PERSONAS = ["shopper", "store admin", "support agent", "new user", "returning customer", "field technician",
            "account owner", "finance analyst"]
SYMPTOMS = ["shows a blank screen", "times out", "double-charges", "loses its state", "crashes", "renders twice",
            "returns 500", "shows the wrong total", "is slow", "ignores the locale", "drops the last item"]
CONDITIONS = ["after a refresh", "on Safari", "with an empty cart", "when offline", "on slow networks",
              "for accounts with 2FA", "after the 2.x upgrade", "with more than 100 items", "at midnight UTC"]
CHORES = ["Upgrade", "Remove dead code in", "Add metrics to", "Document", "Refactor", "Add tests for",
          "Rotate secrets of", "Clean up logs of"]
LABELS = ["frontend", "backend", "tech-debt", "customer", "security", "performance", "ux", "accessibility"]
ACCEPTANCE = [
    "Given a signed-in user, when they open the page, then the new layout is shown",
    "Errors are shown inline and announced to screen readers",
    "The API returns 422 with a field-level message on invalid input",
    "Works on the latest two versions of Chrome, Safari and Firefox",
    "Analytics event is emitted once per completed action",
    "p95 latency stays under 300 ms at current traffic",
    "Copy is reviewed by the content team and translated",
    "Feature flag allows turning it off without a deploy",
]

# Hostile or unusual text: each must stay inert in Markdown, HTML and email headers.
ADVERSARIAL_TITLES = [
    "<script>alert(1)</script> Fix login redirect",
    "Preview breaks on <img src=x onerror=alert(1)> in product names",
    "Export | pipes | in table cells | break the layout",
    "Onboarding doc links to [click here](javascript:alert(1))",
    "Notification shows **bold** and _emphasis_ markers raw",
    "Customer escalation from support\r\nBcc: evil@example.com",
    "ログイン画面の翻訳を修正する (日本語ロケール)",
    "دعم اللغة العربية في واجهة الدفع",
    "🚀 Launch checklist for the spring release 🎉",
    "Investigate intermittent failures: " + ", ".join(
        f"step {n} of the nightly reconciliation job reports a mismatch between ledger and bank feed" for n in range(1, 5)),
]


def person_names(rng: random.Random, count: int) -> list[str]:
    """`count` distinct full names."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if name in seen:
            name = f"{name} {len(names) + 1}"  # large teams: keep names unique
        seen.add(name)
        names.append(name)
    return names


def login_of(name: str, taken: set[str]) -> str:
    """A GitHub login from a name: ascii, lower-case, unique."""
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    parts = [p for p in ascii_name.replace("'", "").split() if p]
    base = f"{parts[0]}-{parts[1][0]}" if len(parts) > 1 else parts[0]
    login, n = base, 2
    while login in taken:
        login, n = f"{base}{n}", n + 1
    taken.add(login)
    return login


def epic_title(rng: random.Random, project: str, used: dict[str, int]) -> str:
    """An epic title from the project's themes (numbered when a theme comes round again)."""
    themes = PROJECT_WORDS[project][0]
    theme = rng.choice(themes)
    used[theme] = used.get(theme, 0) + 1
    return theme if used[theme] == 1 else f"{theme} (phase {used[theme]})"


def story_title(rng: random.Random, project: str) -> str:
    """A user-story title."""
    noun = rng.choice(PROJECT_WORDS[project][2])
    if rng.random() < 0.35:
        return f"As a {rng.choice(PERSONAS)}, I can {rng.choice(VERBS).lower()} the {noun}"
    return f"{rng.choice(VERBS)} {noun} {rng.choice(QUALIFIERS)}".strip()


def bug_title(rng: random.Random, project: str) -> str:
    """A bug title."""
    noun = rng.choice(PROJECT_WORDS[project][2])
    return f"{noun.capitalize()} {rng.choice(SYMPTOMS)} {rng.choice(CONDITIONS)}"


def task_title(rng: random.Random, project: str) -> str:
    """A technical task title."""
    return f"{rng.choice(CHORES)} {rng.choice(PROJECT_WORDS[project][2])}"


def subtask_title(rng: random.Random, n: int) -> str:
    """A subtask title."""
    return ["Backend endpoint", "UI implementation", "Tests and fixtures", "Docs and release note",
            "Analytics events", "Migration script"][(n + rng.randrange(6)) % 6]


def _text(value: str) -> Json:
    return {"type": "text", "text": value}


def _paragraph(value: str) -> Json:
    return {"type": "paragraph", "content": [_text(value)]}


def _bullets(lines: list[str], ordered: bool = False) -> Json:
    return {"type": "orderedList" if ordered else "bulletList",
            "content": [{"type": "listItem", "content": [_paragraph(line)]} for line in lines]}


_AC_NODES = [_bullets([a, b]) for a in ACCEPTANCE for b in ACCEPTANCE if a < b]  # shared: never mutated
_AC_HEADING: Json = {"type": "heading", "attrs": {"level": 3}, "content": [_text("Acceptance criteria")]}
_STEPS_HEADING: Json = {"type": "heading", "attrs": {"level": 3}, "content": [_text("Steps to reproduce")]}


def description(rng: random.Random, kind: str, summary: str, acceptance: bool, extra: str | None = None) -> Json:
    """An ADF (v3) description: stories carry an "Acceptance criteria" section when `acceptance`."""
    content: list[Json] = []
    if kind == "Story":
        content.append(_paragraph(f"Why: {summary.lower()} is the most requested change in this area."))
        if acceptance:
            content += [_AC_HEADING, rng.choice(_AC_NODES)]
        else:
            content.append(_paragraph("Details to be discussed in refinement."))
    elif kind == "Bug":
        content += [_paragraph(f"Reported by support: {summary}."), _STEPS_HEADING,
                    _bullets(["Open the app", "Repeat the action described above", "Observe the result"], ordered=True),
                    _paragraph("Expected: it works. Actual: see the title.")]
    elif kind == "Epic":
        content.append(_paragraph(f"Goal: deliver {summary} to all customers this quarter."))
    else:
        content.append(_paragraph(f"{summary}."))
    if extra:
        content.append(_paragraph(extra))
    return {"type": "doc", "version": 1, "content": content}


def adf_plain(value: str) -> Json:
    """A one-paragraph ADF document."""
    return {"type": "doc", "version": 1, "content": [_paragraph(value)]}
