"""Synthetic programme data at scale: ``flask --app tracker seed --synthetic N``.

Creates a project coded ``SYNTH`` with N fictitious participants and what
happens to them, drawn like the reference programme (``seed_data/``):
about 88 % of the people registered complete a training, about 30 % of those
are placed in a job or an income-generating activity (IGA), placements get
follow-ups at 3, 6 and 12 months, and partners hold capacity-building and
awareness activities. Unlike the pilot, the programme runs six years in seven
cities and follows men as well as women.

Rows go in with bulk Core inserts, a batch at a time, never as ORM objects:
100,000 participants take seconds, not minutes. Bulk inserts bypass the ORM
events, so two things the events would do are done here:

* the participant and consent rows come from ``tracker.participants.records``
  (``participant_row``, ``consent_row``), as the importer's: ``search_text``,
  ``name_key`` and ``phone_key`` are computed by the same ``tracker.text.search_fields``
  as ``tracker.models._derive_search_fields``;
* the audit log gets **one** line for the whole generation (action ``create``,
  entity ``project``, with the counts of each table) instead of one per row.

One ``random.Random(rng_seed)`` drives every draw and no draw depends on the
database (ids, today's date), so the same seed gives the same people and the
same figures in any database. The project is generated once: if ``SYNTH``
already exists, ``generate`` refuses and changes nothing.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import Table, func, insert, select

from tracker import audit
from tracker.extensions import db
from tracker.indicator_store import keeping
from tracker.models import (
    Activity,
    ActivityAttendance,
    Enrolment,
    FollowUp,
    Participant,
    Partner,
    Placement,
    Project,
    ProjectTarget,
    TrainingCourse,
    now_utc,
)
from tracker.participants import records
from tracker.placements.services import add_months
from tracker.text import fold

Row = TypeVar("Row")

CODE = "SYNTH"
DEFAULT_RNG_SEED = 2019
#: rows sent to the database per executemany
BATCH = 5000

PROJECT_START = date(2019, 1, 1)
PROJECT_END = date(2024, 12, 31)
REGISTRATION_START = date(2019, 2, 1)
REGISTRATION_END = date(2024, 6, 30)
#: the data describes the programme on this day: later events have not happened yet
AS_OF = PROJECT_END


class SyntheticError(ValueError):
    """Synthetic data cannot be generated here (the project already exists, N is wrong)."""


@dataclass
class SyntheticResult:
    """What was created: the project's id and the rows added to each table."""

    project_id: int
    counts: dict[str, int] = field(default_factory=dict)


# --- The programme's shape -------------------------------------------------------------

# city: (region, weight)
CITIES = {
    "Rabat": ("Rabat-Salé-Kénitra", 20),
    "Salé": ("Rabat-Salé-Kénitra", 6),
    "Casablanca": ("Casablanca-Settat", 26),
    "Tanger": ("Tanger-Tétouan-Al Hoceïma", 14),
    "Fès": ("Fès-Meknès", 9),
    "Marrakech": ("Marrakech-Safi", 9),
    "Oujda": ("L'Oriental", 10),
    "Agadir": ("Souss-Massa", 6),
}
# where the people of a city take their courses (Salé's go to Rabat)
COURSE_CITY = {"Salé": "Rabat"}

# title, sector, kind, hours, months, weight for women, weight for men
COURSES = [
    ("Français, darija et compétences de vie", "Langues et compétences de vie", "language",
     120, 3, 14, 14),
    ("Cuisine et restauration", "Restauration", "vocational", 360, 6, 12, 8),
    ("Couture et confection", "Couture", "vocational", 300, 6, 11, 2),
    ("Pâtisserie et boulangerie", "Boulangerie-pâtisserie", "vocational", 300, 5, 8, 5),
    ("Hôtellerie : service d'étage", "Hôtellerie", "vocational", 240, 4, 8, 4),
    ("Création et gestion d'une activité génératrice de revenus (AGR)", "Entrepreneuriat",
     "entrepreneurship", 90, 3, 10, 9),
    ("Broderie traditionnelle", "Broderie et artisanat", "vocational", 240, 5, 5, 1),
    ("Coiffure", "Coiffure", "vocational", 300, 6, 7, 3),
    ("Esthétique et soins du corps", "Esthétique", "vocational", 240, 5, 6, 0),
    ("Aide à domicile et petite enfance", "Services à la personne", "vocational", 280, 5, 8, 1),
    ("Électricité du bâtiment", "Bâtiment", "vocational", 400, 7, 1, 10),
    ("Maçonnerie et carrelage", "Bâtiment", "vocational", 360, 6, 0, 9),
    ("Mécanique automobile", "Mécanique", "vocational", 400, 7, 1, 8),
    ("Logistique et magasinage", "Logistique", "vocational", 200, 4, 3, 7),
    ("Agriculture et maraîchage", "Agriculture", "vocational", 200, 4, 2, 5),
    ("Recherche d'emploi et compétences transversales", "Compétences transversales",
     "soft_skills", 40, 1, 6, 6),
]  # fmt: skip
LANGUAGE_COURSE = 0
ENTREPRENEURSHIP_COURSE = 5

# weighted like the regularisation campaigns of 2014 and 2017
NATIONALITIES = {
    "SEN": 19, "CIV": 16, "GIN": 13, "CMR": 10, "COD": 8, "NGA": 8, "MLI": 7, "SYR": 6,
    "PHL": 3, "COG": 3, "BFA": 3, "GAB": 1, "BEN": 1, "TGO": 2,
}  # fmt: skip
WEST = "SEN CIV GIN MLI BFA BEN TGO"
CENTRAL = "CMR COD COG GAB"

# nationality: (women's given names, men's given names, family names)
NAMES = {
    "SEN": ("Fatou Awa Aminata Mariama Khady Ndeye Astou Coumba Adama Bineta Rokhaya Seynabou",
            "Mamadou Moussa Ousmane Cheikh Ibrahima Abdoulaye Modou Pape Lamine Babacar Saliou",
            "Diop Ndiaye Fall Sow Gueye Sarr Faye Ba Mbaye Cissé Thiam Diouf Kane Niang Seck"),
    "CIV": ("Aya Adjoua Amenan Akissi Affoué Mariam Christelle Estelle Prisca Nadège Larissa",
            "Kouadio Yao Koffi Serge Arsène Didier Hervé Yves Jean-Marc Brice Wilfried",
            "Kouassi Konan Yao Kouamé Koné Ouattara Bamba N'Guessan Koffi Gnagne Touré Aka"),
    "GIN": ("Mariama Kadiatou Hawa Djenabou Oumou Mabinty Kadidiatou Aminata Fanta Aïssatou",
            "Alpha Mamadou Thierno Ibrahima Sékou Boubacar Amadou Lansana Mohamed Ousmane",
            "Bah Barry Camara Sylla Soumah Condé Keïta Bangoura Baldé Diallo Sow Kourouma"),
    "CMR": ("Mireille Brigitte Nadine Solange Clarisse Hortense Carine Vanessa Laure Françoise",
            "Jean Paul Emmanuel Serge Christian Patrick Joseph Blaise Armand Roger",
            "Mbarga Ngono Fotso Tchoupo Nkoulou Ekotto Kamga Njoya Essomba Tchami Atangana"),
    "COD": ("Grâce Esther Merveille Bénédicte Rachel Chantal Déborah Sarah Nathalie Patience",
            "Patrick Junior Christian Jonathan Glody Fiston Héritier Trésor Dieudonné Plamedi",
            "Mbuyi Ilunga Tshibanda Kalonji Mukendi Lukusa Mulumba Kasongo Nzuzi Mputu"),
    "NGA": ("Blessing Joy Chioma Ngozi Funmilayo Aisha Precious Favour Adaeze Folake",
            "Chinedu Emeka Oluwaseun Tunde Ibrahim Musa Chukwuemeka Segun Uche Ifeanyi",
            "Okafor Adeyemi Eze Okonkwo Bello Nwosu Olawale Ibrahim Chukwu Afolabi"),
    "MLI": ("Fatoumata Kadiatou Assitan Awa Mariam Djeneba Salimata Oumou Rokia",
            "Moussa Bakary Seydou Adama Souleymane Drissa Modibo Boubacar Yacouba",
            "Traoré Coulibaly Diarra Konaté Sangaré Dembélé Sissoko Maïga Keïta Touré"),
    "SYR": ("Rasha Hala Lina Rana Maha Nour Reem Dima Hiba Samar Yasmin",
            "Ahmad Mohammed Omar Khaled Yousef Rami Bassel Hussam Tarek Fadi",
            "Al-Halabi Haddad Khatib Sabbagh Darwish Hamwi Kassab Shami Najjar Attar"),
    "PHL": ("Maricel Jocelyn Rowena Marites Lorna Analyn Cristina Rosalie Jennifer Leah",
            "Jose Mark Ramon Rodel Arnel Jun Noel Ronaldo Dennis Joel",
            "Santos Reyes Cruz Bautista Garcia Mendoza Villanueva Ramos Aquino Navarro"),
    "COG": ("Ornella Prisca Gloire Dorcas Sylvie Arlette Grâce Exaucée",
            "Destin Prince Christ Rodrigue Juvénal Landry Merveil Brel",
            "Mabiala Ngoma Massamba Loubaki Mavoungou Nkounkou Okemba Ibara"),
    "BFA": ("Salimata Aminata Rasmata Alimata Awa Safiatou",
            "Issouf Adama Boukary Hamidou Souleymane Idrissa",
            "Ouédraogo Sawadogo Kaboré Compaoré Zongo Traoré Ilboudo"),
    "GAB": ("Murielle Annick Ghislaine Sandrine", "Franck Ghislain Rodrigue Hervé",
            "Nzé Obiang Mba Ndong Moussavou"),
    "BEN": ("Rosine Edwige Pélagie Blandine", "Romaric Fiacre Gildas Sévérin",
            "Agbodjan Dossou Hounkpatin Ahouandjinou"),
    "TGO": ("Akouvi Afi Adjoa Ama", "Kodjo Komi Yao Kossi", "Amegah Mensah Agbeko Kpodar"),
}  # fmt: skip
# syllables of family names that are not in the short lists above: real
# registers hold thousands of names, and a few dozen would make everyone a
# "likely duplicate" of everyone else of her nationality
SYLLABLES = {
    "west": (
        "Ba Da Di Dia Do Fa Ga Gue Ka Ke Ko Kou Ma Mba Nda Ndi Ni Sa Se Si So Ta Tou Ya Zo",
        "ba bi dé di go ka ké ko la lo ma mé na né ra ré ro ssa té to ye bou gou katé mbo",
    ),
    "central": (
        "Mbu Ngo Ka Lu Mu Nzu Tshi Ilu Ma Ba E O Ngu Nko Fo Tcha Ma Mou Lou",
        "la ba mba nda nga ngo lo si ji bo ku mbi tsi yi ndu kala tembo sanga",
    ),
    "NGA": ("Ade Olu Oka Nwo Chu Eze Ibe Afo Oba Ogu Ba Ike Ola Oye", "yemi for su kwu nna "
            "labi dele wale nde chi oma kun tola bayo"),
    "SYR": ("Ha Ka Sa Da Na Ra Za Ma Ta Kha Sha Ja", "ddad tib bbagh rwish mwi ssab mi jjar "
            "ttar lil mdan rif san kim"),
    "PHL": ("San Re Cru Bau Gar Men Vil Ra A Na De Ma To Del", "tos yes zado tista cia doza "
            "lanueva mos quino varro lacruz rano les rres"),
}  # fmt: skip

LANGUAGES = {
    "SEN": ["fr;wo"], "CIV": ["fr;dyu", "fr"], "GIN": ["fr;ff", "fr;sus"], "CMR": ["fr;en", "fr"],
    "COD": ["fr;ln", "fr;sw"], "NGA": ["en;yo", "en;ig", "en;ha"], "MLI": ["fr;bm"],
    "SYR": ["ar", "ar;en"], "PHL": ["en;tl"], "COG": ["fr;ln", "fr;kg"], "BFA": ["fr;mos"],
    "GAB": ["fr"], "BEN": ["fr;fon"], "TGO": ["fr;ee"],
}  # fmt: skip
STATUSES = {
    "SYR": {"regularised_2014": 20, "regularised_2017": 10, "refugee": 60, "asylum_seeker": 10},
    "PHL": {"regularised_2014": 35, "regularised_2017": 20, "resident": 45},
    "*": {"regularised_2014": 50, "regularised_2017": 36, "refugee": 3, "asylum_seeker": 4,
          "resident": 5, "irregular": 1, "other": 1},
}  # fmt: skip
EDUCATION = {
    "SYR": {"none": 5, "primary": 20, "secondary": 40, "vocational": 10, "higher": 25},
    "PHL": {"secondary": 50, "vocational": 25, "higher": 25},
    CENTRAL: {"none": 5, "primary": 20, "secondary": 45, "vocational": 12, "higher": 18},
    "GIN MLI BFA": {"none": 30, "primary": 35, "secondary": 25, "vocational": 5, "higher": 5},
    "*": {"none": 12, "primary": 28, "secondary": 38, "vocational": 10, "higher": 12},
}
# age at registration: (lowest, highest, weight), as in the pilot's 18-24/25-34/35-49/50+
AGES = [(18, 24, 12), (25, 34, 40), (35, 49, 42), (50, 62, 6)]

# employers by sector: a job's sector is the trade learnt
JOB_SECTORS = [
    ("Restauration", "Restaurant"), ("Hôtellerie", "Hôtel"), ("Boulangerie-pâtisserie",
    "Boulangerie"), ("Couture", "Atelier de confection"), ("Coiffure", "Salon de coiffure"),
    ("Esthétique", "Institut de beauté"), ("Services à la personne", "Crèche"),
    ("Bâtiment", "Entreprise de bâtiment"), ("Mécanique", "Garage"),
    ("Logistique", "Plateforme logistique"), ("Agriculture", "Exploitation maraîchère"),
    ("Centre d'appels", "Centre d'appels"), ("Nettoyage", "Société de propreté"),
]  # fmt: skip
EMPLOYER_NAMES = "Atlas Bouregreg Argan Palmeraie Oasis Zagora Tingis Volubilis Anfa Majorelle"
IGA_PATTERNS = {
    "Restauration": ["Traiteur {g}", "Cuisine de {g}", "Saveurs de chez {g}"],
    "Commerce": ["Boutique {g}", "Pagnes et tissus {g}", "Épicerie {g}"],
    "Coiffure": ["Tresses {g}", "Coiffure à domicile {g}"],
    "Couture": ["Couture {g}", "Atelier {g} Couture"],
    "Esthétique": ["Esthétique {g}", "Soins {g}"],
    "Broderie et artisanat": ["Broderie {g}", "Les fils de {g}"],
    "Boulangerie-pâtisserie": ["Gâteaux de {g}", "Pâtisserie {g}"],
    "Bâtiment": ["{g} Rénovation", "Électricité {g}"],
    "Mécanique": ["Garage {g}"],
    "Agriculture": ["Maraîchage {g}"],
}
CONTRACTS = {"permanent": 12, "fixed_term": 45, "temporary": 12, "apprenticeship": 10,
             "informal": 21}  # fmt: skip
NOTES_ACTIVE = [
    "Contrat renouvelé.", "Bonne intégration dans l'équipe.", "L'employeur se dit satisfait.",
    "Clientèle en hausse, surtout le week-end.", "Revenus irréguliers selon la saison.",
]  # fmt: skip
NOTES_STOPPED = [
    "A quitté l'emploi (déménagement).", "A démissionné pour raisons familiales.",
    "Injoignable ; information donnée par l'employeur.", "Activité arrêtée faute de local.",
]  # fmt: skip

# kind, title, topic, institutions attending (lowest, highest), other attendees
ACTIVITIES = [
    ("capacity_building", "Renforcement des capacités en interculturalité", "Interculturalité",
     (3, 8), False),
    ("capacity_building", "Accueil et orientation des migrants dans les services publics",
     "Accueil des migrants", (3, 7), False),
    ("awareness_workshop", "Atelier de sensibilisation sur la question migratoire",
     "Sensibilisation sur la question migratoire", (2, 5), True),
    ("awareness_workshop", "Présentation des programmes offerts aux migrants",
     "Présentation des programmes offerts aux migrants", (2, 4), True),
    ("event", "Cérémonie de remise des attestations de formation", "Clôture des formations",
     (3, 9), True),
]  # fmt: skip
INSTITUTION_KINDS = {"government": 30, "ngo": 30, "employment_service": 10, "foundation": 10,
                     "training_provider": 15, "un_agency": 5}  # fmt: skip


# --- Drawing helpers --------------------------------------------------------------------------


class _Weighted:
    """Draw keys by weight with one ``random()`` call (cumulative weights, bisect)."""

    def __init__(self, weights: dict[Any, float]) -> None:
        self.keys = [k for k, w in weights.items() if w > 0]
        self.cumulative = []
        total = 0.0
        for key in self.keys:
            total += weights[key]
            self.cumulative.append(total)
        self.total = total

    def draw(self, rng: random.Random) -> Any:
        return self.keys[bisect.bisect(self.cumulative, rng.random() * self.total)]


def _by_nationality(table: dict[str, dict[str, int]], nationality: str) -> dict[str, int]:
    for keys, weights in table.items():
        if nationality in keys.split():
            return weights
    return table["*"]


def _syllables(nationality: str) -> tuple[list[str], list[str]]:
    if nationality in SYLLABLES:
        onsets, codas = SYLLABLES[nationality]
    else:
        onsets, codas = SYLLABLES["central" if nationality in CENTRAL.split() else "west"]
    return onsets.split(), codas.split()


# --- The people and their paths ---------------------------------------------------------------


@dataclass(slots=True)
class _Person:
    code: str = ""
    sex: str = "F"
    nationality: str = ""
    given: str = ""
    family: str = ""
    born: date | None = None
    birth_year: int | None = None
    city: str = ""
    registered_on: date = REGISTRATION_START
    phone: str = ""
    email: str | None = None
    id: int = 0


@dataclass(slots=True)
class _Session:
    template: int
    city: str
    start: date
    end: date
    enrolled: int = 0


@dataclass(slots=True)
class _Place:
    person: int  # index in the people list
    kind: str
    sector: str
    start: date
    end: date | None
    contract: str
    income: int
    employer: int | None  # index in the employers list
    business: str | None
    referral: int | None  # index in the referral partners list
    verified: bool


class _Generator:
    """Draws the whole programme, in a fixed order, from one seeded RNG."""

    def __init__(self, participants: int, rng_seed: int) -> None:
        self.n = participants
        # test data, not secrets: a seeded generator is the point
        self.rng = random.Random(rng_seed)  # noqa: S311 - fictitious demo data, not a secret
        self.nationality = _Weighted(NATIONALITIES)
        self.city = _Weighted({c: w for c, (_r, w) in CITIES.items()})
        self.age = _Weighted({i: w for i, (_lo, _hi, w) in enumerate(AGES)})
        self.template = {
            "F": _Weighted({i: c[5] for i, c in enumerate(COURSES) if i != LANGUAGE_COURSE}),
            "M": _Weighted({i: c[6] for i, c in enumerate(COURSES) if i != LANGUAGE_COURSE}),
        }
        self.contract = _Weighted(CONTRACTS)
        self.status = {n: _Weighted(_by_nationality(STATUSES, n)) for n in NATIONALITIES}
        self.education = {n: _Weighted(_by_nationality(EDUCATION, n)) for n in NATIONALITIES}

    # people ------------------------------------------------------------------------------

    def people(self) -> list[_Person]:
        """Draw every participant; codes follow the order of registration."""
        rng = self.rng
        span = (REGISTRATION_END - REGISTRATION_START).days
        people = []
        for _ in range(self.n):
            person = _Person()
            person.sex = "F" if rng.random() < 0.68 else "M"
            person.nationality = self.nationality.draw(rng)
            person.city = self.city.draw(rng)
            # the programme grows: more people register in later years
            person.registered_on = REGISTRATION_START + timedelta(
                days=int(span * rng.random() ** 0.75)
            )
            lo, hi, _w = AGES[self.age.draw(rng)]
            years = rng.randint(lo, hi)
            known = rng.random()
            if known < 0.96:
                person.born = person.registered_on - timedelta(
                    days=int(years * 365.25) + rng.randint(1, 360)
                )
                person.birth_year = person.born.year
            elif known < 0.995:
                person.birth_year = person.registered_on.year - years
            person.given, person.family = self._name(person.nationality, person.sex)
            people.append(person)
        people.sort(key=lambda p: p.registered_on)
        width = max(6, len(str(self.n)))
        numbers = rng.sample(range(10_000_000, 100_000_000), self.n)
        for number, (person, phone) in enumerate(zip(people, numbers, strict=True), start=1):
            person.code = f"{CODE}-{number:0{width}d}"
            text = f"{phone:08d}"
            person.phone = f"+212 6{text[:2]} {text[2:4]} {text[4:6]} {text[6:]}"
            if rng.random() < 0.25:
                local = "".join(c for c in fold(person.given) if c.isalpha())
                local += "." + "".join(c for c in fold(person.family) if c.isalpha())
                person.email = f"{local}{number}@example.org"
        return people

    def _name(self, nationality: str, sex: str) -> tuple[str, str]:
        rng = self.rng
        women, men, families = NAMES[nationality]
        givens = (women if sex == "F" else men).split()
        given = rng.choice(givens)
        if rng.random() < 0.25:
            second = rng.choice(givens)
            if second != given:
                given = f"{given} {second}"
        if rng.random() < 0.55:
            family = rng.choice(families.split())
        else:
            onsets, codas = _syllables(nationality)
            family = rng.choice(onsets) + rng.choice(codas)
            if rng.random() < 0.3:
                family += rng.choice(codas)
            if nationality == "SYR" and rng.random() < 0.3:
                family = f"Al-{family}"
        return given, family

    def person_row(self, person: _Person, project_id: int, stamp: Any) -> dict[str, Any]:
        """Return the person's ``participant`` row, built as every other path builds it."""
        rng = self.rng
        nationality = person.nationality
        # the draws, in this order, make the seed's people: keep it
        languages = rng.choice(LANGUAGES[nationality])
        if nationality != "SYR" and rng.random() < 0.3:
            languages += ";ary"
        # a few records miss their region: the data-quality panel has work to show
        region = CITIES[person.city][0] if rng.random() < 0.995 else None
        migration_status = self.status[nationality].draw(rng)
        education_level = self.education[nationality].draw(rng)
        return records.participant_row(
            {
                "given_name": person.given,
                "family_name": person.family,
                "sex": person.sex,
                "date_of_birth": person.born,
                "birth_year": person.birth_year,
                "nationality": nationality,
                "region": region,
                "city": person.city,
                "phone": person.phone,
                "email": person.email,
                "migration_status": migration_status,
                "education_level": education_level,
                "languages": languages,
            },
            project_id=project_id,
            code=person.code,
            registered_on=person.registered_on,
            stamp=stamp,
        )

    # courses and enrolments -----------------------------------------------------------------

    def sessions(self, people: list[_Person]) -> dict[tuple[int, str], list[_Session]]:
        """Plan course sessions per (course, city): often enough for ~20 people each."""
        expected_enrolments = 1.5 * len(people)
        city_share = {c: 0.0 for c in CITIES}
        for person in people:
            city_share[COURSE_CITY.get(person.city, person.city)] += 1 / len(people)
        totals = [c[5] * 0.68 + c[6] * 0.32 for c in COURSES]
        template_share = [t / sum(totals) for t in totals]
        span = (AS_OF - REGISTRATION_START).days
        plan: dict[tuple[int, str], list[_Session]] = {}
        for index, course in enumerate(COURSES):
            months = course[4]
            for city, share in city_share.items():
                if share == 0:
                    continue
                per_city = expected_enrolments * template_share[index] * share
                # about 20 people a session, but at least one session every four months
                interval = min(120, max(7, int(span / max(per_city / 20, 1))))
                start = REGISTRATION_START + timedelta(days=self.rng.randint(7, 7 + interval))
                sessions = []
                while start <= AS_OF:
                    end = add_months(start, months) - timedelta(days=self.rng.randint(1, 10))
                    sessions.append(_Session(index, city, start, max(end, start)))
                    start += timedelta(days=interval + self.rng.randint(-3, 3))
                plan[(index, city)] = sessions
        return plan

    def paths(
        self, people: list[_Person], plan: dict[tuple[int, str], list[_Session]]
    ) -> list[tuple[int, _Session, date, str, date | None, int | None, bool]]:
        """Draw the enrolments: (person, session, enrolled on, status, closed on, %, certificate).

        About 3 % never enrol; the others take one to three courses, one after
        the other, and drop out of about 10 % of them; courses still running
        on the as-of day stay "enrolled".
        """
        rng = self.rng
        starts = {key: [s.start for s in sessions] for key, sessions in plan.items()}
        enrolments = []
        for index, person in enumerate(people):
            if rng.random() < 0.03:
                continue
            count = 1 if rng.random() < 0.6 else (2 if rng.random() < 0.75 else 3)
            city = COURSE_CITY.get(person.city, person.city)
            ready = person.registered_on + timedelta(days=rng.randint(3, 45))
            taken: set[int] = set()
            for step in range(count):
                if step == 0 and rng.random() < 0.25:
                    template = LANGUAGE_COURSE
                elif step > 0 and rng.random() < 0.3:
                    template = ENTREPRENEURSHIP_COURSE
                else:
                    template = self.template[person.sex].draw(rng)
                if template in taken:
                    continue
                key = (template, city)
                at = bisect.bisect_left(starts[key], ready)
                if at == len(starts[key]):
                    break
                session = plan[key][at]
                taken.add(template)
                session.enrolled += 1
                enrolled_on = max(
                    person.registered_on, session.start - timedelta(rng.randint(2, 28))
                )
                days = (session.end - session.start).days
                if rng.random() < 0.10:
                    dropped = session.start + timedelta(days=rng.randint(days // 10, days // 2))
                    if dropped <= AS_OF:
                        enrolments.append(
                            (index, session, enrolled_on, "dropped_out", dropped,
                             rng.randint(8, 45), False)
                        )  # fmt: skip
                        ready = dropped + timedelta(days=rng.randint(20, 120))
                        continue
                if session.end > AS_OF or rng.random() < 0.004:
                    # still in the course (or an outcome never recorded: data quality)
                    enrolments.append((index, session, enrolled_on, "enrolled", None, None, False))
                    break
                attendance = rng.randint(78, 100) if rng.random() < 0.9 else rng.randint(65, 77)
                enrolments.append(
                    (index, session, enrolled_on, "completed", session.end, attendance,
                     attendance >= 75)
                )  # fmt: skip
                ready = session.end + timedelta(days=rng.randint(5, 90))
        return enrolments

    # placements and follow-ups ---------------------------------------------------------------

    def placements(
        self,
        people: list[_Person],
        enrolments: list[tuple],
        employer_sectors: list[str],
        referrals: int,
    ) -> list[_Place]:
        """Place about 30 % of the trained people in a job or an IGA after their last course."""
        rng = self.rng
        completed: dict[int, list[_Session]] = {}
        for index, session, _on, status, *_rest in enrolments:
            if status == "completed":
                completed.setdefault(index, []).append(session)
        by_sector: dict[str, list[int]] = {}
        for number, sector in enumerate(employer_sectors):
            by_sector.setdefault(sector, []).append(number)
        places = []
        for index in sorted(completed):
            if rng.random() >= 0.33:
                continue
            sessions = completed[index]
            person = people[index]
            last = max(s.end for s in sessions)
            trades = [
                COURSES[s.template][1] for s in sessions if COURSES[s.template][2] != "language"
            ]
            business_course = any(s.template == ENTREPRENEURSHIP_COURSE for s in sessions)
            kind = "iga" if rng.random() < (0.8 if business_course else 0.45) else "employment"
            start = last + timedelta(days=rng.randint(15, 150))
            if start > AS_OF:
                continue
            sector = rng.choice(trades) if trades else rng.choice(["Commerce", "Nettoyage"])
            if kind == "employment":
                job = self._job(index, sector, start, by_sector, referrals)
                places.append(job)
                # a few go on from a job to their own business
                if rng.random() < 0.05 and job.end is not None:
                    start = job.end + timedelta(days=rng.randint(15, 40))
                    if start <= AS_OF:
                        places.append(self._iga(index, person, sector, start, referrals))
            else:
                sector = sector if sector in IGA_PATTERNS else "Commerce"
                places.append(self._iga(index, person, sector, start, referrals))
        return places

    def _job(
        self, index: int, sector: str, start: date, by_sector: dict[str, list[int]], referrals: int
    ) -> _Place:
        rng = self.rng
        if sector not in by_sector:
            sector = rng.choice(["Centre d'appels", "Nettoyage"])
        contract = self.contract.draw(rng)
        end = None
        if contract == "temporary":
            end = add_months(start, 4)
        elif contract == "fixed_term" and rng.random() < 0.2:
            end = add_months(start, rng.choice([6, 9, 12]))
        return _Place(
            index, "employment", sector, start, end, contract,
            int(round(rng.uniform(2000, 4000) / 50)) * 50, rng.choice(by_sector[sector]), None,
            rng.randrange(referrals), rng.random() < 0.85,
        )  # fmt: skip

    def _iga(self, index: int, person: _Person, sector: str, start: date, referrals: int) -> _Place:
        rng = self.rng
        sector = sector if sector in IGA_PATTERNS else "Commerce"
        first_given = person.given.split()[0]
        name = rng.choice(IGA_PATTERNS[sector]).format(g=first_given)
        return _Place(
            index, "iga", sector, start, None, "self_employed",
            int(round(rng.uniform(1500, 3200) / 50)) * 50, None, name,
            rng.randrange(referrals) if rng.random() < 0.9 else None, rng.random() < 0.8,
        )  # fmt: skip

    def follow_ups(self, place: _Place) -> list[tuple[int, date, bool, int | None, str | None]]:
        """Return the follow-ups at 3, 6 and 12 months that fell before the as-of day."""
        rng = self.rng
        rows = []
        active = True
        for months, attrition, skip in ((3, 0.05, 0.05), (6, 0.12, 0.10), (12, 0.15, 0.12)):
            followed_on = add_months(place.start, months) + timedelta(days=rng.randint(-5, 12))
            if followed_on > AS_OF:
                break
            if rng.random() < skip:
                continue
            note = None
            if place.end is not None and followed_on > place.end:
                if active:
                    note = "Fin du contrat."
                active = False
            elif active and rng.random() < attrition:
                active = False
                note = rng.choice(NOTES_STOPPED)
            elif active and rng.random() < 0.2:
                note = rng.choice(NOTES_ACTIVE)
            income = int(round(place.income * rng.uniform(0.9, 1.2) / 50)) * 50 if active else None
            rows.append((months, followed_on, active, income, note))
        return rows

    # activities ------------------------------------------------------------------------------

    def activities(self, institutions: int) -> list[tuple[tuple, list[tuple[int, int]]]]:
        """Draw the activities: ((kind, title, topic, held_on, city, women, men), attendance)."""
        rng = self.rng
        count = max(len(ACTIVITIES) * 2, self.n // 250)
        span = (PROJECT_END - PROJECT_START).days
        seen: set[tuple[str, date]] = set()
        result = []
        for number in range(count):
            kind, title, topic, (lo, hi), others = ACTIVITIES[number % len(ACTIVITIES)]
            city = self.city.draw(rng)
            title = f"{title} – {city}"
            held_on = PROJECT_START + timedelta(days=rng.randint(30, span - 1))
            while (title, held_on) in seen:
                held_on += timedelta(days=1)
            seen.add((title, held_on))
            women = rng.randint(5, 40) if others else 0
            men = rng.randint(2, 25) if others else 0
            attending = rng.sample(range(institutions), min(institutions, rng.randint(lo, hi)))
            result.append(
                (
                    (kind, title, topic, held_on, city, women, men),
                    [(partner, rng.randint(1, 6)) for partner in attending],
                )
            )
        return result


# --- Writing ------------------------------------------------------------------------------------


def _batches(rows: Iterable[Row], size: int = BATCH) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Insert ``rows`` into ``table`` with executemany, a batch at a time; return the count."""
    written = 0
    for batch in _batches(rows):
        # the project's store is rebuilt once at the end (generate)
        db.session.execute(insert(table), batch, execution_options=keeping.NOTED)
        written += len(batch)
    return written


@dataclass
class _Partners:
    """The synthetic partners' ids: training providers, employers (with their sector), others."""

    providers: list[int]
    employers: list[tuple[int, str]]
    institutions: list[tuple[int, str]]  # (id, kind)

    @property
    def count(self) -> int:
        return len(self.providers) + len(self.employers) + len(self.institutions)


INSTITUTION_LABELS = {
    "government": "Délégation provinciale",
    "ngo": "Association d'appui aux migrants",
    "employment_service": "Agence pour l'emploi",
    "foundation": "Fondation",
    "training_provider": "Institut de formation",
    "un_agency": "Bureau de programme",
}


def _partners(gen: _Generator, stamp: Any) -> _Partners:
    """Create (or find, by name) the providers, employers and institutions."""
    rng = gen.rng
    # (name, acronym, kind, city, sector of an employer)
    providers, employers, institutions = [], [], []
    for number in range(1, max(4, gen.n // 2500) + 1):
        city = gen.city.draw(rng)
        name = f"Centre de formation professionnelle {number:03d} – {city}"
        providers.append((name, f"CFP{number:03d}", "training_provider", city, ""))
    places = EMPLOYER_NAMES.split()
    for number in range(1, max(len(JOB_SECTORS), gen.n // 250) + 1):
        sector, label = JOB_SECTORS[(number - 1) % len(JOB_SECTORS)]
        city = gen.city.draw(rng)
        name = f"{label} {rng.choice(places)} {number:04d} – {city}"
        employers.append((name, None, "employer", city, sector))
    kinds = _Weighted(INSTITUTION_KINDS)
    for number in range(1, max(16, gen.n // 1000) + 1):
        kind = kinds.draw(rng)
        city = gen.city.draw(rng)
        name = f"{INSTITUTION_LABELS[kind]} {number:03d} – {city}"
        institutions.append((name, None, kind, city, ""))
    wanted = providers + employers + institutions
    names = [row[0] for row in wanted]

    def known() -> dict[str, int]:
        found = select(Partner.name, Partner.id).where(Partner.name.in_(names))
        return dict(db.session.execute(found).all())

    existing = known()
    _insert(
        Partner.__table__,
        (
            {
                "name": name, "acronym": acronym, "kind": kind, "city": city, "country": "MAR",
                "contact_name": None, "contact_email": None, "contact_phone": None,
                "version": 1, "created_at": stamp, "updated_at": stamp,
            }
            for name, acronym, kind, city, _sector in wanted
            if name not in existing
        ),
    )  # fmt: skip
    ids = known()
    return _Partners(
        providers=[ids[row[0]] for row in providers],
        employers=[(ids[row[0]], row[4]) for row in employers],
        institutions=[(ids[row[0]], row[2]) for row in institutions],
    )


def generate(participants: int, rng_seed: int = DEFAULT_RNG_SEED) -> SyntheticResult:
    """Create the ``SYNTH`` project with ``participants`` people and their records; flush only.

    Refuses (``SyntheticError``) when a project coded ``SYNTH`` already exists.
    The caller commits.
    """
    if participants < 1:
        raise SyntheticError("the number of participants must be at least 1")
    existing = db.session.scalar(select(Project.id).where(Project.code == CODE))
    if existing is not None:
        people = db.session.scalar(
            select(func.count(Participant.id)).where(Participant.project_id == existing)
        )
        raise SyntheticError(
            f"project {CODE} already exists ({people:,} participants): synthetic data is "
            "generated once, into a database without it"
        )
    gen = _Generator(participants, rng_seed)
    stamp = now_utc()
    counts: dict[str, int] = {}

    project_id = _create_project(participants, stamp)
    partners = _partners(gen, stamp)
    counts["partners"] = partners.count

    people = gen.people()
    # the people and their consents through the participants' own bulk path
    ids: dict[str, int] = {}
    rows = ((gen.person_row(p, project_id, stamp), p.registered_on) for p in people)
    for batch in _batches(rows):
        ids.update(records.insert_people(batch, audited=False))
    for person in people:
        person.id = ids[person.code]
    counts["participants"] = counts["consents"] = len(ids)

    plan = gen.sessions(people)
    enrolments = gen.paths(people, plan)
    counts["training_courses"] = _insert_courses(plan, partners.providers, project_id, stamp)
    course_ids = {
        (title, start): course_id
        for course_id, title, start in db.session.execute(
            select(TrainingCourse.id, TrainingCourse.title, TrainingCourse.start_date).where(
                TrainingCourse.project_id == project_id
            )
        )
    }
    counts["enrolments"] = _insert(
        Enrolment.__table__,
        (
            {
                "participant_id": people[index].id,
                "course_id": course_ids[(_course_title(session), session.start)],
                "enrolled_on": enrolled_on, "status": status,
                "completed_on": closed_on if status == "completed" else None,
                "dropped_on": closed_on if status == "dropped_out" else None,
                "attendance_pct": attendance, "certificate": certificate,
                "version": 1, "created_at": stamp, "updated_at": stamp,
            }
            for index, session, enrolled_on, status, closed_on, attendance, certificate
            in enrolments
        ),
    )  # fmt: skip

    institutions = [pid for pid, _kind in partners.institutions]
    referral_ids = [pid for pid, kind in partners.institutions if kind == "employment_service"]
    referral_ids = referral_ids or institutions
    places = gen.placements(
        people, enrolments, [sector for _id, sector in partners.employers], len(referral_ids)
    )
    counts["placements"], counts["follow_ups"] = _insert_placements(
        gen,
        people,
        places,
        [pid for pid, _sector in partners.employers],
        referral_ids,
        project_id,
        stamp,
    )
    counts["activities"], counts["activity_attendance"] = _insert_activities(
        gen, institutions, project_id, stamp
    )

    audit.record(
        db.session,
        "create",
        "project",
        project_id,
        {"synthetic": True, "rng_seed": rng_seed, **counts},
    )
    db.session.flush()
    keeping.rebuild(project_id, audited=False)  # the line above says it all
    return SyntheticResult(project_id, counts)


def _create_project(participants: int, stamp: Any) -> int:
    table = Project.__table__
    db.session.execute(
        insert(table),
        [
            {
                "code": CODE,
                "title": f"Programme synthétique d'intégration ({participants:,} participants)",
                "donor": "Synthetic donor",
                "country": "MAR",
                "counterpart": None,
                "start_date": PROJECT_START,
                "end_date": PROJECT_END,
                "description": (
                    "Données fictives générées par « flask seed --synthetic » pour mesurer "
                    "l'application à grande échelle."
                ),
                "version": 1,
                "created_at": stamp,
                "updated_at": stamp,
            }
        ],
    )
    project_id = db.session.scalar(select(Project.id).where(Project.code == CODE))
    targets = {
        "registered": participants,
        "trained": int(participants * 0.85),
        "placed": int(participants * 0.27),
        "institutions_strengthened": max(10, participants // 1200),
        "awareness_partners": max(4, participants // 2000),
    }
    _insert(
        ProjectTarget.__table__,
        (
            {"project_id": project_id, "indicator": key, "target": value,
             "created_at": stamp, "updated_at": stamp}
            for key, value in targets.items()
        ),
    )  # fmt: skip
    return project_id


def _course_title(session: _Session) -> str:
    return f"{COURSES[session.template][0]} – {session.city}"


def _insert_courses(
    plan: dict[tuple[int, str], list[_Session]],
    providers: list[int],
    project_id: int,
    stamp: Any,
) -> int:
    """Insert the sessions that somebody enrolled in, with a provider each."""
    rows = []
    for (template, city), sessions in plan.items():
        title, sector, kind, hours, _months, _w, _m = COURSES[template]
        # one provider per course and city, as a centre runs its trade year after year
        provider = providers[(template * 7 + sum(map(ord, city))) % len(providers)]
        for session in sessions:
            if not session.enrolled:
                continue
            rows.append(
                {
                    "project_id": project_id, "provider_id": provider,
                    "title": f"{title} – {city}", "sector": sector, "kind": kind,
                    "city": city, "start_date": session.start, "end_date": session.end,
                    "hours": hours, "capacity": max(20, session.enrolled),
                    "version": 1, "created_at": stamp, "updated_at": stamp,
                }
            )  # fmt: skip
    return _insert(TrainingCourse.__table__, rows)


def _insert_placements(
    gen: _Generator,
    people: list[_Person],
    places: list[_Place],
    employer_ids: list[int],
    referral_ids: list[int],
    project_id: int,
    stamp: Any,
) -> tuple[int, int]:
    """Insert the placements, then their follow-ups; return both counts."""
    written = _insert(
        Placement.__table__,
        (
            {
                "participant_id": people[p.person].id, "project_id": project_id,
                "kind": p.kind,
                "employer_id": employer_ids[p.employer] if p.employer is not None else None,
                "business_name": p.business, "sector": p.sector, "start_date": p.start,
                "end_date": p.end, "contract_type": p.contract, "monthly_income": p.income,
                "referral_partner_id": referral_ids[p.referral] if p.referral is not None
                else None,
                "verified": p.verified, "version": 1, "created_at": stamp, "updated_at": stamp,
            }
            for p in places
        ),
    )  # fmt: skip
    placement_ids = {
        (participant_id, kind.value, start): pid
        for pid, participant_id, kind, start in db.session.execute(
            select(
                Placement.id, Placement.participant_id, Placement.kind, Placement.start_date
            ).where(Placement.project_id == project_id)
        )
    }

    def follow_up_rows() -> Iterator[dict[str, Any]]:
        for place in places:
            placement_id = placement_ids[(people[place.person].id, place.kind, place.start)]
            for months, followed_on, active, income, note in gen.follow_ups(place):
                yield {
                    "placement_id": placement_id, "months_after": months,
                    "followed_on": followed_on, "still_active": active,
                    "monthly_income": income, "note": note,
                    "version": 1, "created_at": stamp, "updated_at": stamp,
                }  # fmt: skip

    return written, _insert(FollowUp.__table__, follow_up_rows())


def _insert_activities(
    gen: _Generator, institution_ids: list[int], project_id: int, stamp: Any
) -> tuple[int, int]:
    """Insert the activities and the institutions that attended them; return both counts."""
    drawn = gen.activities(len(institution_ids))
    written = _insert(
        Activity.__table__,
        (
            {
                "project_id": project_id, "kind": kind, "title": title, "topic": topic,
                "held_on": held_on, "city": city, "description": None,
                "other_women": women, "other_men": men,
                "version": 1, "created_at": stamp, "updated_at": stamp,
            }
            for (kind, title, topic, held_on, city, women, men), _attending in drawn
        ),
    )  # fmt: skip
    activity_ids = {
        (title, held_on): aid
        for aid, title, held_on in db.session.execute(
            select(Activity.id, Activity.title, Activity.held_on).where(
                Activity.project_id == project_id
            )
        )
    }
    attendance = _insert(
        ActivityAttendance.__table__,
        (
            {
                "activity_id": activity_ids[(key[1], key[3])],
                "partner_id": institution_ids[partner], "staff_count": staff,
                "created_at": stamp, "updated_at": stamp,
            }
            for key, attending in drawn
            for partner, staff in attending
        ),
    )  # fmt: skip
    return written, attendance
