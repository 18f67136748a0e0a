"""A person's own copy of her data, asked for at the case file: PDF in her language, JSON.

Administrators and managers of her project produce it (``MANAGERS``: they may read
everything the document holds, sensitive notes and who opened the case file
included); the production is audited as ``subject_access`` with the format, the
language and the file's SHA-256, so that the copy handed over can be recognised.
"""

from __future__ import annotations

import hashlib
import json
import re

from flask import Response, render_template
from flask_babel import force_locale, get_locale
from flask_login import current_user

from tracker import audit, security
from tracker.participants import bp, merging, subject_access
from tracker.participants.forms import SubjectAccessForm
from tracker.permissions import MANAGERS, get_participant_or_404, role_required
from tracker.reports.subject_pdf import build_subject_pdf

MIMETYPES = {"pdf": "application/pdf", "json": "application/json"}


def produce(person, reader, *, language: str, fmt: str) -> tuple[bytes, str]:
    """Return the document's bytes and its file name (no audit: the caller writes it)."""
    with force_locale(language):
        dossier = subject_access.gather(person, reader, language=language)
        if fmt == "pdf":
            content = build_subject_pdf(dossier)
        else:
            document = subject_access.as_json(dossier)
            content = json.dumps(document, ensure_ascii=False, indent=2).encode()
    day = dossier.generated_at.date().isoformat()
    return content, f"{dossier.person.code}-personal-data-{day}.{fmt}"


def audit_detail(content: bytes, *, language: str, fmt: str) -> dict[str, str]:
    return {"format": fmt, "lang": language, "sha256": hashlib.sha256(content).hexdigest()}


@bp.route("/<int:participant_id>/subject-access", methods=["GET", "POST"])
@role_required(*MANAGERS)
@security.heavy_work("report", methods=["POST"])
def subject_access_page(participant_id: int):
    """Offer the person's own copy (GET) and send it (POST), audited."""
    person = merging.survivor_of(get_participant_or_404(participant_id))
    form = SubjectAccessForm()
    if not form.is_submitted():
        form.lang.data = form.lang.data or _guess_language(person)
        # the page shows her name: a read, as the case file's
        audit.record_read("participant", person.id, {"page": "subject_access"})
    if form.validate_on_submit():
        language, fmt = form.lang.data, form.format.data
        content, name = produce(person, current_user, language=language, fmt=fmt)
        audit.record_shown(
            "participant",
            person.id,
            audit_detail(content, language=language, fmt=fmt),
            action="subject_access",
        )
        response = Response(content, mimetype=MIMETYPES[fmt])
        response.headers.set("Content-Disposition", "attachment", filename=name)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
    return render_template("participants/subject_access.html", participant=person, form=form)


#: words in the "languages spoken" field that say which language a document is best in
#: (the field holds codes, "ar;fr", or words, "arabe, français")
_LANGUAGE_WORDS = {
    "ar": ("ar", "ara", "ary", "arab", "عرب", "darija", "دارجة"),
    "en": ("en", "eng", "english", "anglais", "إنجليزي"),
    "fr": ("fr", "fra", "fre", "fran", "french", "فرنس"),
}


def _guess_language(person) -> str:
    """The language offered first: the first of hers the document can be written in,
    else the reader's."""
    for word in re.split(r"[;,/|\s]+", (person.languages or "").lower()):
        for lang, starts in _LANGUAGE_WORDS.items():
            if word and any(word == s or (len(s) >= 3 and word.startswith(s)) for s in starts):
                return lang
    return str(get_locale())
