"""Write the reference programme's demo data as CSV files, then check them.

The reference programme is the IOM Morocco pilot "Formation professionnelle et
opportunités des moyens de subsistance pour les migrants régularisés au Maroc"
(June 2014 – December 2016; source: OIM Maroc, atelier du 21 février 2017).
The institutions named by that source are real; every person, name, phone
number, e-mail address, employer and small business below is fictitious.

Run from the repository root::

    python seed_data/generate.py

Standard library only. One ``random.Random(2014)`` drives every draw, so the
files come out byte for byte the same on every run. After writing, the files
are read back and checked: references resolve, keys are unique, dates are
consistent, capacities hold and the published figures (135 trained, 41 placed,
11 institutions strengthened, 4 partners in awareness workshops) come out
exactly. A failed check raises ``SystemExit`` with the reason.
"""

from __future__ import annotations

import csv
import random
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 2014

PROJECT = "IDF-MA-2014"
PERIOD_START = date(2014, 6, 1)
PERIOD_END = date(2016, 12, 31)
REGISTRATION_START = date(2014, 7, 1)
REGISTRATION_END = date(2016, 6, 30)
FOLLOW_UP_LIMIT = date(2017, 6, 30)

NAMED = "named in the IOM article"
ADDED = "added (plausible, not named in the article)"
FICTITIOUS = "fictitious"

# --------------------------------------------------------------------------- project

PROJECTS = [
    {
        "code": PROJECT,
        "title": (
            "Formation professionnelle et opportunités des moyens de subsistance pour les "
            "migrants régularisés au Maroc"
        ),
        "donor": "IOM Development Fund (IDF)",
        "country": "MAR",
        "counterpart": (
            "Ministère Chargé des Marocains Résidant à l'Étranger et des Affaires de la "
            "Migration (MCMREAM)"
        ),
        "start_date": "2014-06-01",
        "end_date": "2016-12-31",
        "description": (
            "Projet pilote financé par le Fonds de l'OIM pour le Développement (IDF) et mené "
            "en coordination avec le MCMREAM de juin 2014 à décembre 2016, pour promouvoir "
            "l'intégration socio-professionnelle des migrants régularisés au Maroc. "
            "Des femmes migrantes ont bénéficié de formations professionnelles et d'un "
            "accompagnement vers l'emploi ou le lancement d'activités génératrices de revenus "
            "(AGR). Le projet a aussi renforcé les capacités des acteurs gouvernementaux, "
            "institutionnels et de la société civile en matière d'interculturalité."
        ),
    }
]

# illustrative targets: the source publishes results, not targets
TARGETS = [
    ("registered", 160),
    ("trained", 150),
    ("placed", 45),
    ("institutions_strengthened", 10),
    ("awareness_partners", 4),
]

# --------------------------------------------------------------------------- partners

# acronym, name, kind, city, country, source
INSTITUTIONS = [
    (
        "MCMREAM",
        "Ministère Chargé des Marocains Résidant à l'Étranger et des Affaires de la Migration",
        "government",
        "Rabat",
        "MAR",
        NAMED,
    ),
    ("MEAS", "Ministère de l'Emploi et des Affaires Sociales", "government", "Rabat", "MAR", NAMED),
    (
        "OFPPT",
        "Office de la Formation Professionnelle et de la Promotion du Travail",
        "training_provider",
        "Casablanca",
        "MAR",
        NAMED,
    ),
    ("", "Entraide Nationale", "government", "Rabat", "MAR", NAMED),
    ("ODCO", "Office du Développement de la Coopération", "government", "Rabat", "MAR", NAMED),
    (
        "ANAPEC",
        "Agence Nationale de Promotion de l'Emploi et des Compétences",
        "employment_service",
        "Casablanca",
        "MAR",
        NAMED,
    ),
    ("", "L'Heure Joyeuse", "ngo", "Casablanca", "MAR", NAMED),
    ("", "Fondation Orient-Occident", "foundation", "Rabat", "MAR", NAMED),
    (
        "GADEM",
        "Groupe Antiraciste d'Accompagnement et de Défense des Étrangers et Migrants",
        "ngo",
        "Rabat",
        "MAR",
        NAMED,
    ),
    (
        "OIM",
        "Organisation Internationale pour les Migrations – Mission au Maroc",
        "un_agency",
        "Rabat",
        "MAR",
        NAMED,
    ),
    ("IDF", "IOM Development Fund", "donor", "Genève", "CHE", NAMED),
    ("", "Délégation de l'Espagne", "foreign_delegation", "", "ESP", NAMED),
    ("", "Délégation du Portugal", "foreign_delegation", "", "PRT", NAMED),
    ("", "Délégation du Canada", "foreign_delegation", "", "CAN", NAMED),
    ("ADS", "Agence de Développement Social", "government", "Rabat", "MAR", ADDED),
    ("CNDH", "Conseil National des Droits de l'Homme", "government", "Rabat", "MAR", ADDED),
]

# name, city: invented small employers
EMPLOYERS = [
    ("Hôtel Les Trois Palmiers d'Agdal", "Rabat"),
    ("Restaurant Saveurs du Bouregreg", "Rabat"),
    ("Traiteur Mille et Une Semoules", "Rabat"),
    ("Atelier de Couture Fil d'Argan", "Rabat"),
    ("Crèche Les Petits Baobabs", "Rabat"),
    ("Centre d'Appels Atlantique Connect", "Rabat"),
    ("Propreté Nour Services", "Rabat"),
    ("Restaurant Le Tajine Voyageur", "Casablanca"),
    ("Boulangerie-Pâtisserie Fleur de Semoule", "Casablanca"),
    ("Salon de Coiffure Belle Tresse", "Casablanca"),
    ("Hôtel Cap Tingis Résidence", "Tanger"),
    ("Hôtel Les Colonnes du Détroit", "Tanger"),
    ("Maison de Broderie Fil d'Or Fassi", "Fès"),
    ("Institut de Beauté Rose de l'Atlas", "Marrakech"),
    ("Riad Zhar Al Mouna", "Marrakech"),
]

# --------------------------------------------------------------------------- courses

HJ = "L'Heure Joyeuse"
FOO = "Fondation Orient-Occident"
EN = "Entraide Nationale"

# id: (title, provider, sector, kind, city, start, end, hours, capacity)
COURSES = {
    "C01": (
        "Français, darija et compétences de vie",
        FOO,
        "Langues et compétences de vie",
        "language",
        "Rabat",
        date(2014, 9, 15),
        date(2014, 12, 19),
        120,
        25,
    ),
    "C02": (
        "Cuisine et restauration",
        "OFPPT",
        "Restauration",
        "vocational",
        "Rabat",
        date(2014, 10, 13),
        date(2015, 3, 27),
        360,
        20,
    ),
    "C03": (
        "Couture et confection",
        EN,
        "Couture",
        "vocational",
        "Rabat",
        date(2014, 11, 3),
        date(2015, 4, 30),
        300,
        20,
    ),
    "C04": (
        "Pâtisserie et boulangerie",
        "OFPPT",
        "Boulangerie-pâtisserie",
        "vocational",
        "Casablanca",
        date(2015, 1, 12),
        date(2015, 5, 29),
        300,
        18,
    ),
    "C05": (
        "Hôtellerie : employée d'étage (housekeeping)",
        "OFPPT",
        "Hôtellerie",
        "vocational",
        "Tanger",
        date(2015, 4, 6),
        date(2015, 7, 31),
        240,
        18,
    ),
    "C06": (
        "Création et gestion d'une activité génératrice de revenus (AGR)",
        HJ,
        "Entrepreneuriat",
        "entrepreneurship",
        "Casablanca",
        date(2015, 6, 1),
        date(2015, 8, 28),
        90,
        20,
    ),
    "C07": (
        "Broderie traditionnelle",
        EN,
        "Broderie et artisanat",
        "vocational",
        "Fès",
        date(2015, 9, 14),
        date(2016, 1, 29),
        240,
        15,
    ),
    "C08": (
        "Coiffure",
        "OFPPT",
        "Coiffure",
        "vocational",
        "Casablanca",
        date(2015, 10, 5),
        date(2016, 3, 25),
        300,
        16,
    ),
    "C09": (
        "Esthétique et soins du corps",
        EN,
        "Esthétique",
        "vocational",
        "Marrakech",
        date(2016, 1, 11),
        date(2016, 5, 27),
        240,
        15,
    ),
    "C10": (
        "Aide à domicile et petite enfance",
        "OFPPT",
        "Services à la personne",
        "vocational",
        "Rabat",
        date(2016, 2, 1),
        date(2016, 6, 24),
        280,
        20,
    ),
    "C11": (
        "Entrepreneuriat féminin : monter son AGR",
        FOO,
        "Entrepreneuriat",
        "entrepreneurship",
        "Rabat",
        date(2016, 3, 7),
        date(2016, 5, 27),
        90,
        20,
    ),
    "C12": (
        "Cuisine et restauration",
        "OFPPT",
        "Restauration",
        "vocational",
        "Rabat",
        date(2016, 4, 11),
        date(2016, 9, 30),
        360,
        18,
    ),
}

# the training paths of the 154 registered women
TWO_COMPLETED = [  # (first, second): women who completed two courses
    (("C01", "C02"), 3),
    (("C01", "C03"), 3),
    (("C01", "C04"), 2),
    (("C01", "C05"), 1),
    (("C02", "C06"), 2),
    (("C03", "C06"), 2),
    (("C04", "C11"), 1),
    (("C05", "C12"), 1),
    (("C07", "C11"), 2),
]
DROPPED_THEN_COMPLETED = [("C02", "C12"), ("C04", "C10"), ("C08", "C11")]
DROPPED_ONLY = {
    "C02": 2,
    "C03": 1,
    "C04": 1,
    "C05": 2,
    "C07": 1,
    "C08": 2,
    "C09": 1,
    "C10": 1,
    "C12": 2,
}
COMPLETED_ONCE = {
    "C01": 8,
    "C02": 9,
    "C03": 11,
    "C04": 10,
    "C05": 11,
    "C06": 10,
    "C07": 9,
    "C08": 10,
    "C09": 11,
    "C10": 11,
    "C11": 7,
    "C12": 8,
}
NEVER_ENROLLED = 6

# --------------------------------------------------------------------------- people

REGIONS = {
    "Rabat-Salé-Kénitra": ["Rabat", "Salé", "Témara", "Kénitra"],
    "Casablanca-Settat": ["Casablanca", "Mohammédia"],
    "Tanger-Tétouan-Al Hoceïma": ["Tanger", "Tétouan"],
    "Fès-Meknès": ["Fès", "Meknès"],
    "Marrakech-Safi": ["Marrakech"],
    "L'Oriental": ["Oujda", "Nador"],
    "Souss-Massa": ["Agadir"],
}
REGION_OF_CITY = {city: region for region, cities in REGIONS.items() for city in cities}
# where a woman trained in a course of this city is likely to live
RESIDENCE = {
    "Rabat": [("Rabat", 55), ("Salé", 25), ("Témara", 15), ("Kénitra", 5)],
    "Casablanca": [("Casablanca", 85), ("Mohammédia", 15)],
    "Tanger": [("Tanger", 85), ("Tétouan", 15)],
    "Fès": [("Fès", 80), ("Meknès", 20)],
    "Marrakech": [("Marrakech", 100)],
}
ELSEWHERE = ["Oujda", "Nador", "Agadir", "Rabat", "Casablanca", "Kénitra"]

# weighted like the 2014 regularisation (women, with Filipino domestic workers)
NATIONALITIES = {
    "SEN": 30,
    "CIV": 22,
    "CMR": 16,
    "COD": 14,
    "GIN": 13,
    "NGA": 12,
    "SYR": 12,
    "PHL": 9,
    "COG": 8,
    "MLI": 8,
    "GAB": 3,
    "BFA": 3,
    "BEN": 2,
    "TGO": 2,
}

NAMES = {
    "SEN": (
        "Fatou Awa Aminata Mariama Khady Ndeye Astou Coumba Adama Bineta Rokhaya Seynabou "
        "Dieynaba Marème",
        "Diop Ndiaye Fall Sow Gueye Sarr Faye Ba Mbaye Cissé Thiam Diouf Kane Niang Seck",
    ),
    "CIV": (
        "Aya Adjoua Amenan Akissi Affoué Mariam Christelle Estelle Prisca Nadège Ruth Larissa",
        "Kouassi Konan Yao Kouamé Koné Ouattara Bamba N'Guessan Koffi Gnagne Touré Aka",
    ),
    "CMR": (
        "Mireille Brigitte Nadine Solange Clarisse Hortense Carine Vanessa Laure Françoise",
        "Mbarga Ngono Fotso Tchoupo Nkoulou Ekotto Kamga Njoya Essomba Tchami",
    ),
    "COD": (
        "Grâce Esther Merveille Bénédicte Rachel Chantal Déborah Sarah Nathalie Patience",
        "Mbuyi Ilunga Tshibanda Kalonji Mukendi Lukusa Mulumba Kasongo Nzuzi Mputu",
    ),
    "GIN": (
        "Mariama Kadiatou Hawa Djenabou Oumou Mabinty Kadidiatou Aminata Fanta",
        "Bah Barry Camara Sylla Soumah Condé Keïta Bangoura Baldé",
    ),
    "NGA": (
        "Blessing Joy Chioma Ngozi Funmilayo Aisha Precious Favour Adaeze Folake",
        "Okafor Adeyemi Eze Okonkwo Bello Nwosu Olawale Ibrahim Chukwu Afolabi",
    ),
    "SYR": (
        "Rasha Hala Lina Rana Maha Nour Reem Dima Hiba Samar Yasmin",
        "Al-Halabi Haddad Khatib Sabbagh Darwish Hamwi Kassab Shami Najjar Attar",
    ),
    "PHL": (
        "Maricel Jocelyn Rowena Marites Lorna Analyn Cristina Rosalie Jennifer Leah",
        "Santos Reyes Cruz Bautista Garcia Mendoza Villanueva Ramos Aquino Navarro",
    ),
    "COG": (
        "Ornella Prisca Gloire Dorcas Sylvie Arlette Grâce Exaucée",
        "Mabiala Ngoma Massamba Loubaki Mavoungou Nkounkou Okemba Ibara",
    ),
    "MLI": (
        "Fatoumata Kadiatou Assitan Awa Mariam Djeneba Salimata Oumou Rokia",
        "Traoré Coulibaly Diarra Konaté Sangaré Dembélé Sissoko Maïga",
    ),
    "GAB": ("Murielle Annick Ghislaine Sandrine", "Nzé Obiang Mba Ndong Moussavou"),
    "BFA": ("Salimata Aminata Rasmata Alimata", "Ouédraogo Sawadogo Kaboré Compaoré Zongo"),
    "BEN": ("Rosine Edwige Pélagie", "Agbodjan Dossou Hounkpatin"),
    "TGO": ("Akouvi Afi Adjoa", "Amegah Mensah Agbeko Kpodar"),
}
# two pairs of near-duplicate spellings: four different women (realistic noise)
NEAR_DUPLICATES = {
    "GIN": [("Fatoumata", "Diallo"), ("Fatimata", "Diallo")],
    "SEN": [("Aïssatou", "Ndiaye"), ("Aissatou", "N'Diaye")],
}

LANGUAGES = {
    "SEN": ["fr;wo"],
    "CIV": ["fr;dyu", "fr"],
    "CMR": ["fr;en", "fr"],
    "COD": ["fr;ln", "fr;sw"],
    "GIN": ["fr;ff", "fr;sus"],
    "NGA": ["en;yo", "en;ig", "en;ha"],
    "SYR": ["ar", "ar;en"],
    "PHL": ["en;tl"],
    "COG": ["fr;ln", "fr;kg"],
    "MLI": ["fr;bm"],
    "GAB": ["fr"],
    "BFA": ["fr;mos"],
    "BEN": ["fr;fon"],
    "TGO": ["fr;ee"],
}

STATUS_WEIGHTS = {
    "SYR": {"regularised_2014": 30, "refugee": 60, "asylum_seeker": 10},
    "PHL": {"regularised_2014": 55, "resident": 45},
    "COD": {"regularised_2014": 75, "refugee": 15, "asylum_seeker": 10},
    "*": {"regularised_2014": 88, "refugee": 3, "asylum_seeker": 3, "resident": 6},
}
EDUCATION_WEIGHTS = {
    "SYR": {"none": 5, "primary": 20, "secondary": 40, "vocational": 10, "higher": 25},
    "PHL": {"secondary": 50, "vocational": 25, "higher": 25},
    "CMR COG GAB BEN COD": {
        "none": 5,
        "primary": 20,
        "secondary": 45,
        "vocational": 12,
        "higher": 18,
    },
    "GIN MLI BFA": {"none": 30, "primary": 35, "secondary": 25, "vocational": 5, "higher": 5},
    "*": {"none": 12, "primary": 28, "secondary": 38, "vocational": 10, "higher": 12},
}

# age at registration: (group, lowest year-difference, highest year-difference, how many)
AGE_GROUPS = [
    ("18-24", 19, 24, 12),
    ("25-34", 26, 34, 58),
    ("35-49", 36, 49, 78),
    ("50+", 51, 56, 6),
]

# --------------------------------------------------------------------------- placements

# employment: (courses the woman completed, employer, sector, contracts, income range, referral)
JOBS = [
    (["C05"], "Hôtel Cap Tingis Résidence", "Hôtellerie", ["fixed_term"], (2400, 3000), "ANAPEC"),
    (["C05"], "Hôtel Cap Tingis Résidence", "Hôtellerie", ["temporary"], (2300, 2700), "ANAPEC"),
    (["C05"], "Hôtel Les Colonnes du Détroit", "Hôtellerie", ["fixed_term"], (2400, 2900), "OFPPT"),
    (
        ["C02", "C12"],
        "Restaurant Saveurs du Bouregreg",
        "Restauration",
        ["fixed_term"],
        (2200, 2800),
        "ANAPEC",
    ),
    (
        ["C02", "C12"],
        "Hôtel Les Trois Palmiers d'Agdal",
        "Restauration",
        ["fixed_term"],
        (2500, 3000),
        "ANAPEC",
    ),
    (
        ["C02", "C12"],
        "Traiteur Mille et Une Semoules",
        "Restauration",
        ["informal"],
        (2000, 2400),
        "OFPPT",
    ),
    (
        ["C04"],
        "Boulangerie-Pâtisserie Fleur de Semoule",
        "Boulangerie-pâtisserie",
        ["apprenticeship"],
        (1600, 2000),
        "OFPPT",
    ),
    (
        ["C04"],
        "Boulangerie-Pâtisserie Fleur de Semoule",
        "Boulangerie-pâtisserie",
        ["fixed_term"],
        (2300, 2600),
        "ANAPEC",
    ),
    (["C03"], "Atelier de Couture Fil d'Argan", "Couture", ["informal"], (1800, 2400), EN),
    (
        ["C08"],
        "Salon de Coiffure Belle Tresse",
        "Coiffure",
        ["apprenticeship"],
        (1800, 2200),
        "OFPPT",
    ),
    (["C08"], "Salon de Coiffure Belle Tresse", "Coiffure", ["informal"], (2000, 2600), "ANAPEC"),
    (
        ["C09"],
        "Institut de Beauté Rose de l'Atlas",
        "Esthétique",
        ["fixed_term"],
        (2300, 2900),
        "ANAPEC",
    ),
    (["C09"], "Riad Zhar Al Mouna", "Esthétique", ["fixed_term"], (2400, 3000), "ANAPEC"),
    (
        ["C10"],
        "Crèche Les Petits Baobabs",
        "Services à la personne",
        ["fixed_term"],
        (2500, 3000),
        "ANAPEC",
    ),
    (
        ["C10"],
        "Crèche Les Petits Baobabs",
        "Services à la personne",
        ["permanent"],
        (2600, 3000),
        "ANAPEC",
    ),
    (
        ["C01"],
        "Centre d'Appels Atlantique Connect",
        "Centre d'appels",
        ["permanent"],
        (3500, 4000),
        "ANAPEC",
    ),
    (["C01"], "Propreté Nour Services", "Nettoyage", ["fixed_term"], (2300, 2600), "ANAPEC"),
]
# the one woman with both a job and an IGA: cuisine, then the AGR course
JOB_THEN_IGA = (
    ("C02", "C06"),
    "Restaurant Le Tajine Voyageur",
    "Restauration",
    (2300, 2700),
    "ANAPEC",
)

# IGA: (courses the woman completed, how many, sector choices, business patterns, referral)
IGAS = [
    (["C06"], 7, ["Restauration", "Commerce", "Coiffure", "Couture", "Cosmétiques"], None, HJ),
    (["C11"], 7, ["Restauration", "Commerce", "Couture", "Esthétique", "Cosmétiques"], None, FOO),
    (["C03"], 3, ["Couture"], None, FOO),
    (["C07"], 2, ["Broderie et artisanat"], None, EN),
    (["C08"], 2, ["Coiffure"], None, HJ),
    (["C04"], 1, ["Boulangerie-pâtisserie"], None, HJ),
    (["C09"], 1, ["Esthétique"], None, FOO),
]
# the trade a woman learnt decides her business when she took a vocational course
SECTOR_OF_COURSE = {
    "C02": "Restauration",
    "C12": "Restauration",
    "C03": "Couture",
    "C04": "Boulangerie-pâtisserie",
    "C07": "Broderie et artisanat",
    "C08": "Coiffure",
    "C09": "Esthétique",
}
BUSINESS_PATTERNS = {
    "Restauration": ["Traiteur {g}", "Cuisine de {g}", "Saveurs de chez {g}"],
    "Commerce": ["Boutique {g}", "Pagnes et tissus {g}", "Épicerie africaine {g}"],
    "Coiffure": ["Tresses {g}", "Coiffure à domicile {g}"],
    "Couture": ["Couture {g}", "Atelier {g} Couture"],
    "Cosmétiques": ["Beauté naturelle {g}", "Karité {g}"],
    "Esthétique": ["Esthétique {g}", "Soins {g}"],
    "Broderie et artisanat": ["Broderie {g}", "Les fils de {g}"],
    "Boulangerie-pâtisserie": ["Gâteaux de {g}", "Pâtisserie {g}"],
}

NOTES_ACTIVE = {
    "employment": [
        "Contrat renouvelé.",
        "Bonne intégration dans l'équipe.",
        "Satisfaite de son poste ; horaires contraignants.",
        "Souhaite évoluer vers un poste de cheffe d'équipe.",
        "L'employeur se dit satisfait.",
    ],
    "iga": [
        "Clientèle en hausse, surtout le week-end.",
        "Souhaite une formation complémentaire en gestion.",
        "Revenus irréguliers selon la saison.",
        "A recruté une aide à temps partiel.",
        "Vend aussi sur les marchés de quartier.",
    ],
}
NOTES_STOPPED = {
    "employment": [
        "A quitté l'emploi (déménagement).",
        "A démissionné pour raisons familiales.",
        "Injoignable ; information donnée par l'employeur.",
    ],
    "iga": [
        "Activité suspendue pour raisons familiales.",
        "Difficultés d'approvisionnement, activité arrêtée.",
        "Activité arrêtée faute de local.",
    ],
}

# --------------------------------------------------------------------------- activities

CB_TITLE = "Renforcement des capacités en interculturalité et accueil des migrants"
ACTIVITIES = [
    # kind, title, topic, held_on, city, other_women, other_men, description, attendance
    (
        "awareness_workshop",
        "Atelier de sensibilisation sur la question migratoire",
        "Sensibilisation sur la question migratoire",
        date(2015, 2, 10),
        "Rabat",
        14,
        4,
        "Présentation du contexte migratoire au Maroc et de la nouvelle politique "
        "d'immigration aux conseillers des partenaires.",
        [("ANAPEC", 3), ("OFPPT", 2)],
    ),
    (
        "capacity_building",
        CB_TITLE,
        "Interculturalité",
        date(2015, 3, 17),
        "Rabat",
        0,
        0,
        "Session 1 : communication interculturelle, accueil et orientation des migrants "
        "régularisés.",
        [("MCMREAM", 3), ("MEAS", 2), ("ANAPEC", 4), ("OFPPT", 3)],
    ),
    (
        "awareness_workshop",
        "Présentation des programmes de l'OFPPT et de l'ANAPEC offerts aux migrants",
        "Présentation des programmes offerts aux migrants",
        date(2015, 5, 19),
        "Casablanca",
        27,
        9,
        "Les conseillers présentent l'offre de formation et les services d'intermédiation "
        "ouverts aux migrants régularisés.",
        [("OFPPT", 2), ("ANAPEC", 3)],
    ),
    (
        "capacity_building",
        CB_TITLE,
        "Interculturalité",
        date(2015, 6, 9),
        "Casablanca",
        0,
        0,
        "Session 2 : préjugés, diversité culturelle et accueil dans les services sociaux.",
        [(EN, 5), ("ODCO", 2), ("ADS", 2), ("OFPPT", 2)],
    ),
    (
        "awareness_workshop",
        "Présentation des programmes de l'Entraide Nationale et de l'ODCO ouverts aux migrants",
        "Présentation des programmes offerts aux migrants",
        date(2015, 10, 20),
        "Rabat",
        31,
        6,
        "Centres d'éducation et de formation, coopératives et AGR : conditions d'accès pour "
        "les migrantes.",
        [(EN, 3), ("ODCO", 2)],
    ),
    (
        "capacity_building",
        "Accueil et orientation des migrants dans les services publics",
        "Accueil des migrants",
        date(2015, 11, 24),
        "Rabat",
        0,
        0,
        "Droits des migrants régularisés, accès aux services publics et orientation.",
        [("ANAPEC", 6), ("MEAS", 1), ("CNDH", 2), (EN, 3)],
    ),
    (
        "capacity_building",
        "Communication interculturelle et lutte contre les discriminations",
        "Interculturalité",
        date(2016, 3, 15),
        "Tanger",
        0,
        0,
        "Atelier pour les associations et les structures d'accompagnement des migrantes.",
        [(HJ, 3), (FOO, 2), ("GADEM", 2), ("ODCO", 1)],
    ),
    (
        "awareness_workshop",
        "Atelier de sensibilisation sur la question migratoire",
        "Sensibilisation sur la question migratoire",
        date(2016, 4, 26),
        "Tanger",
        18,
        7,
        "Sensibilisation des équipes régionales et présentation croisée des programmes "
        "ouverts aux migrants.",
        [("OFPPT", 2), (EN, 2), ("ANAPEC", 2), ("ODCO", 1)],
    ),
    (
        "capacity_building",
        CB_TITLE,
        "Interculturalité",
        date(2016, 6, 7),
        "Fès",
        0,
        0,
        "Session 3 : accompagnement des femmes migrantes vers l'emploi et les AGR.",
        [("MCMREAM", 2), ("ADS", 1), (EN, 4), (HJ, 2)],
    ),
    (
        "event",
        "Cérémonie de remise des attestations de formation",
        "Clôture des formations",
        date(2016, 7, 12),
        "Rabat",
        9,
        5,
        "Remise des attestations aux bénéficiaires des formations de 2016, en présence des "
        "familles et des formateurs.",
        [("OIM", 3), ("MCMREAM", 2), ("OFPPT", 2), (EN, 2)],
    ),
    (
        "event",
        "Atelier sur l'intégration socio-professionnelle des migrants régularisés au Maroc",
        "Intégration socio-professionnelle",
        date(2017, 2, 21),
        "Rabat",
        38,
        46,
        "Atelier de clôture du projet : présentation des résultats, état des lieux des "
        "enjeux et défis de l'insertion socio-professionnelle des migrants, expériences de "
        "l'Espagne, du Portugal et du Canada ; en présence du corps diplomatique, des "
        "agences des Nations Unies, d'institutions nationales, de la société civile et du "
        "secteur privé.",
        [
            ("MCMREAM", 5),
            ("MEAS", 3),
            ("OIM", 6),
            (HJ, 2),
            (FOO, 2),
            ("GADEM", 2),
            ("Délégation de l'Espagne", 2),
            ("Délégation du Portugal", 1),
            ("Délégation du Canada", 2),
        ],
    ),
]

# --------------------------------------------------------------------------- helpers


def fold(text: str) -> str:
    """Lower-case ASCII form of ``text`` (accents removed)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def weighted(rng: random.Random, weights: dict[str, int]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def by_nationality(table: dict[str, dict[str, int]], nationality: str) -> dict[str, int]:
    for keys, weights in table.items():
        if nationality in keys.split():
            return weights
    return table["*"]


def round50(value: float) -> int:
    return int(round(value / 50.0)) * 50


def iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def yes(flag: bool) -> str:
    return "yes" if flag else "no"


# --------------------------------------------------------------------------- model


@dataclass
class Enrol:
    course: str
    status: str
    enrolled_on: date
    closed_on: date
    attendance: int
    certificate: bool


@dataclass
class Woman:
    plan: list[tuple[str, str]]
    nationality: str = ""
    given: str = ""
    family: str = ""
    born: date | None = None
    registered_on: date | None = None
    city: str = ""
    enrolments: list[Enrol] = field(default_factory=list)
    code: str = ""

    def completed(self) -> list[Enrol]:
        return [e for e in self.enrolments if e.status == "completed"]


@dataclass
class Place:
    woman: Woman
    kind: str
    employer: str
    business: str
    sector: str
    start: date
    end: date | None
    contract: str
    income: int
    referral: str
    verified: bool


# --------------------------------------------------------------------------- generation


def build_plans() -> list[list[tuple[str, str]]]:
    plans: list[list[tuple[str, str]]] = []
    for (first, second), n in TWO_COMPLETED:
        plans += [[(first, "completed"), (second, "completed")] for _ in range(n)]
    for first, second in DROPPED_THEN_COMPLETED:
        plans.append([(first, "dropped_out"), (second, "completed")])
    for course, n in DROPPED_ONLY.items():
        plans += [[(course, "dropped_out")] for _ in range(n)]
    for course, n in COMPLETED_ONCE.items():
        plans += [[(course, "completed")] for _ in range(n)]
    plans += [[] for _ in range(NEVER_ENROLLED)]
    return plans


def make_women(rng: random.Random) -> list[Woman]:
    women = [Woman(plan=plan) for plan in build_plans()]
    rng.shuffle(women)

    # nationalities and ages by quota, in a shuffled order
    nationalities = [n for n, k in NATIONALITIES.items() for _ in range(k)]
    if len(nationalities) != len(women):
        raise SystemExit(f"{len(nationalities)} nationalities for {len(women)} women")
    rng.shuffle(nationalities)
    ages = [(lo, hi) for _, lo, hi, k in AGE_GROUPS for _ in range(k)]
    if len(ages) != len(women):
        raise SystemExit(f"{len(ages)} ages for {len(women)} women")
    rng.shuffle(ages)

    for woman, nationality in zip(women, nationalities, strict=True):
        woman.nationality = nationality

    # enrolments and registration
    for woman in women:
        for course_id, outcome in woman.plan:
            _, _, _, _, _, start, end, _, _ = COURSES[course_id]
            enrolled_on = start - timedelta(days=rng.randint(2, 28))
            if outcome == "completed":
                attendance = rng.randint(78, 100) if rng.random() < 0.9 else rng.randint(65, 77)
                woman.enrolments.append(
                    Enrol(course_id, outcome, enrolled_on, end, attendance, attendance >= 75)
                )
            else:
                days = (end - start).days
                dropped = start + timedelta(days=rng.randint(days // 10, days // 2))
                woman.enrolments.append(
                    Enrol(course_id, outcome, enrolled_on, dropped, rng.randint(8, 45), False)
                )
        if woman.enrolments:
            first = min(e.enrolled_on for e in woman.enrolments)
            woman.registered_on = max(
                REGISTRATION_START, first - timedelta(days=rng.randint(0, 40))
            )
            last_city = COURSES[woman.enrolments[-1].course][4]
            places = RESIDENCE[last_city]
            if rng.random() < 0.06:
                woman.city = rng.choice(ELSEWHERE)
            else:
                woman.city = rng.choices([c for c, _ in places], [w for _, w in places])[0]
        else:
            woman.city = rng.choice(ELSEWHERE)

    # the women who never enrolled registered late (waiting for a session) or dropped contact
    never = [w for w in women if not w.enrolments]
    for i, woman in enumerate(never):
        if i < 3:
            low, high = date(2016, 5, 2), REGISTRATION_END
        else:
            low, high = date(2015, 1, 15), date(2016, 4, 30)
        woman.registered_on = low + timedelta(days=rng.randint(0, (high - low).days))

    # ages at registration
    for woman, (low, high) in zip(women, ages, strict=True):
        years = rng.randint(low, high)
        woman.born = date(woman.registered_on.year - years, 1, 1) + timedelta(
            days=rng.randint(0, 364)
        )

    # names: unique after folding, the near-duplicate pairs kept apart
    reserved = {fold(f"{g} {f}") for pairs in NEAR_DUPLICATES.values() for g, f in pairs}
    taken: set[str] = set(reserved)
    pending = {n: list(pairs) for n, pairs in NEAR_DUPLICATES.items()}
    for woman in women:
        if pending.get(woman.nationality):
            woman.given, woman.family = pending[woman.nationality].pop(0)
            continue
        givens, families = (part.split() for part in NAMES[woman.nationality])
        while True:
            given, family = rng.choice(givens), rng.choice(families)
            if fold(f"{given} {family}") not in taken:
                break
        taken.add(fold(f"{given} {family}"))
        woman.given, woman.family = given, family

    # codes in order of registration
    order = sorted(range(len(women)), key=lambda i: (women[i].registered_on, i))
    for number, i in enumerate(order, start=1):
        women[i].code = f"{PROJECT}-{number:04d}"
    return [women[i] for i in order]


def participant_rows(rng: random.Random, women: list[Woman]) -> list[dict[str, str]]:
    rows = []
    numbers = rng.sample(range(100_000, 1_000_000), len(women))
    emails: set[str] = set()
    for woman, number in zip(women, numbers, strict=True):
        digits = f"{number:06d}"
        phone = f"+212 600 {digits[:2]} {digits[2:4]} {digits[4:]}"
        email = ""
        if rng.random() < 0.25:
            local = re.sub(r"[^a-z]", "", fold(woman.given)) + "."
            local += re.sub(r"[^a-z]", "", fold(woman.family))
            candidate, n = local, 1
            while candidate in emails:
                n += 1
                candidate = f"{local}{n}"
            emails.add(candidate)
            email = f"{candidate}@example.org"
        languages = rng.choice(LANGUAGES[woman.nationality])
        if woman.nationality not in ("SYR",) and rng.random() < 0.3:
            languages += ";ary"
        rows.append(
            {
                "code": woman.code,
                "given_name": woman.given,
                "family_name": woman.family,
                "other_name": "",
                "sex": "F",
                "date_of_birth": iso(woman.born),
                "nationality": woman.nationality,
                "region": REGION_OF_CITY[woman.city],
                "city": woman.city,
                "phone": phone,
                "email": email,
                "migration_status": weighted(
                    rng, by_nationality(STATUS_WEIGHTS, woman.nationality)
                ),
                "education_level": weighted(
                    rng, by_nationality(EDUCATION_WEIGHTS, woman.nationality)
                ),
                "languages": languages,
                "consent_given": "yes",
                "consent_date": iso(woman.registered_on),
                "project_code": PROJECT,
                "registered_on": iso(woman.registered_on),
            }
        )
    return rows


def make_placements(rng: random.Random, women: list[Woman]) -> list[Place]:
    placed: set[str] = set()
    places: list[Place] = []

    def pool(courses: list[str] | tuple[str, ...], *, all_of: bool = False) -> list[Woman]:
        found = []
        for woman in women:
            done = {e.course for e in woman.completed()}
            ok = set(courses) <= done if all_of else bool(done & set(courses))
            if ok and woman.code not in placed:
                found.append(woman)
        return found

    def start_after(woman: Woman, low: int, high: int) -> date:
        last = max(e.closed_on for e in woman.completed())
        return min(last + timedelta(days=rng.randint(low, high)), date(2016, 12, 19))

    # the woman with a job, then her own business
    courses, employer, sector, (lo, hi), referral = JOB_THEN_IGA
    woman = rng.choice(pool(courses, all_of=True))
    placed.add(woman.code)
    job_start = start_after(woman, 12, 25)
    job_end = add_months(job_start, 5) - timedelta(days=1)
    places.append(
        Place(
            woman,
            "employment",
            employer,
            "",
            sector,
            job_start,
            job_end,
            "fixed_term",
            round50(rng.uniform(lo, hi)),
            referral,
            True,
        )
    )
    iga_start = job_end + timedelta(days=rng.randint(15, 40))
    places.append(
        Place(
            woman,
            "iga",
            "",
            f"Traiteur {woman.given}",
            "Restauration",
            iga_start,
            None,
            "self_employed",
            round50(rng.uniform(1800, 2600)),
            HJ,
            True,
        )
    )

    for courses, employer, sector, contracts, (lo, hi), referral in JOBS:
        woman = rng.choice(pool(courses))
        placed.add(woman.code)
        start = start_after(woman, 15, 120)
        contract = rng.choice(contracts)
        end = None
        if contract == "temporary":
            end = add_months(start, 4)
        places.append(
            Place(
                woman,
                "employment",
                employer,
                "",
                sector,
                start,
                end,
                contract,
                round50(rng.uniform(lo, hi)),
                referral,
                rng.random() < 0.85,
            )
        )

    businesses: set[str] = {p.business for p in places if p.business}
    for courses, n, sectors, _, referral in IGAS:
        for _ in range(n):
            woman = rng.choice(pool(courses))
            placed.add(woman.code)
            trades = [SECTOR_OF_COURSE.get(e.course, "") for e in woman.completed()]
            trades = [t for t in trades if t in sectors] or sectors
            sector = rng.choice(trades)
            patterns = BUSINESS_PATTERNS[sector]
            name = rng.choice(patterns).format(g=woman.given)
            if name in businesses:
                name = f"{name} {woman.family}"
            businesses.add(name)
            start = start_after(woman, 20, 150)
            places.append(
                Place(
                    woman,
                    "iga",
                    "",
                    name,
                    sector,
                    start,
                    None,
                    "self_employed",
                    round50(rng.uniform(1500, 3000)),
                    referral,
                    rng.random() < 0.8,
                )
            )
    places.sort(key=lambda p: (p.woman.code, p.start))
    return places


def placement_rows(places: list[Place]) -> list[dict[str, str]]:
    return [
        {
            "participant_code": p.woman.code,
            "project_code": PROJECT,
            "kind": p.kind,
            "employer": p.employer,
            "business_name": p.business,
            "sector": p.sector,
            "start_date": iso(p.start),
            "end_date": iso(p.end),
            "contract_type": p.contract,
            "monthly_income": str(p.income),
            "referral_partner": p.referral,
            "verified": yes(p.verified),
        }
        for p in places
    ]


def follow_up_rows(rng: random.Random, places: list[Place]) -> list[dict[str, str]]:
    rows = []
    skip_3m = set(rng.sample(range(len(places)), 2))
    both = Counter(p.woman.code for p in places)
    for index, p in enumerate(places):
        # the woman with a job then an IGA is the success story: no attrition
        job_then_iga = both[p.woman.code] > 1
        active = True
        for months, attrition in ((3, 0.05), (6, 0.12), (12, 0.15)):
            followed_on = add_months(p.start, months) + timedelta(days=rng.randint(-5, 12))
            followed_on = min(followed_on, FOLLOW_UP_LIMIT)
            if months == 3 and index in skip_3m:
                continue
            skipped = rng.random() < 0.1 and not job_then_iga
            if months == 6 and (add_months(p.start, 6) > FOLLOW_UP_LIMIT or skipped):
                continue
            if months == 12 and p.start >= date(2016, 7, 1):
                continue
            note = ""
            if p.end is not None and followed_on > p.end:
                if active:
                    note = (
                        "CDD terminé ; a lancé son activité de traiteur."
                        if job_then_iga
                        else "Fin du contrat saisonnier."
                    )
                active = False
            elif active and not job_then_iga and rng.random() < attrition:
                active = False
                stopped = list(NOTES_STOPPED[p.kind])
                if p.contract == "fixed_term":
                    stopped.append("Fin du contrat, non renouvelé.")
                note = rng.choice(stopped)
            elif active and rng.random() < 0.3:
                note = rng.choice(NOTES_ACTIVE[p.kind])
            income = None
            if active:
                income = min(4000, max(1500, round50(p.income + rng.uniform(-200, 300))))
            rows.append(
                {
                    "participant_code": p.woman.code,
                    "placement_kind": p.kind,
                    "placement_start_date": iso(p.start),
                    "months_after": str(months),
                    "followed_on": iso(followed_on),
                    "still_active": yes(active),
                    "monthly_income": str(income) if income is not None else "",
                    "note": note,
                }
            )
    return rows


# --------------------------------------------------------------------------- writing

COLUMNS = {
    "projects.csv": "code,title,donor,country,counterpart,start_date,end_date,description",
    "targets.csv": "project_code,indicator,target",
    "partners.csv": "acronym,name,kind,city,country,source",
    "courses.csv": (
        "project_code,title,provider,sector,kind,city,start_date,end_date,hours,capacity"
    ),
    "participants.csv": (
        "code,given_name,family_name,other_name,sex,date_of_birth,nationality,region,city,"
        "phone,email,migration_status,education_level,languages,consent_given,consent_date,"
        "project_code,registered_on"
    ),
    "enrolments.csv": (
        "participant_code,project_code,course_title,course_start_date,enrolled_on,status,"
        "completed_on,dropped_on,attendance_pct,certificate"
    ),
    "placements.csv": (
        "participant_code,project_code,kind,employer,business_name,sector,start_date,end_date,"
        "contract_type,monthly_income,referral_partner,verified"
    ),
    "followups.csv": (
        "participant_code,placement_kind,placement_start_date,months_after,followed_on,"
        "still_active,monthly_income,note"
    ),
    "activities.csv": (
        "project_code,kind,title,topic,held_on,city,other_women,other_men,description"
    ),
    "attendance.csv": "project_code,activity_title,held_on,partner,staff_count",
}


def write(directory: Path, name: str, rows: list[dict[str, str]]) -> None:
    columns = COLUMNS[name].split(",")
    with (directory / name).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row[c] for c in columns})


def generate(directory: Path = HERE) -> None:
    rng = random.Random(SEED)  # noqa: S311 - demo data, not security

    write(directory, "projects.csv", PROJECTS)
    write(
        directory,
        "targets.csv",
        [{"project_code": PROJECT, "indicator": k, "target": str(v)} for k, v in TARGETS],
    )
    partners = [
        dict(zip(COLUMNS["partners.csv"].split(","), row, strict=True)) for row in INSTITUTIONS
    ]
    partners += [
        {
            "acronym": "",
            "name": name,
            "kind": "employer",
            "city": city,
            "country": "MAR",
            "source": FICTITIOUS,
        }
        for name, city in EMPLOYERS
    ]
    write(directory, "partners.csv", partners)
    write(
        directory,
        "courses.csv",
        [
            {
                "project_code": PROJECT,
                "title": title,
                "provider": provider,
                "sector": sector,
                "kind": kind,
                "city": city,
                "start_date": iso(start),
                "end_date": iso(end),
                "hours": str(hours),
                "capacity": str(capacity),
            }
            for title, provider, sector, kind, city, start, end, hours, capacity in COURSES.values()
        ],
    )

    women = make_women(rng)
    write(directory, "participants.csv", participant_rows(rng, women))
    enrolments = []
    for woman in women:
        for e in woman.enrolments:
            title, _, _, _, _, start, _, _, _ = COURSES[e.course]
            enrolments.append(
                {
                    "participant_code": woman.code,
                    "project_code": PROJECT,
                    "course_title": title,
                    "course_start_date": iso(start),
                    "enrolled_on": iso(e.enrolled_on),
                    "status": e.status,
                    "completed_on": iso(e.closed_on) if e.status == "completed" else "",
                    "dropped_on": iso(e.closed_on) if e.status == "dropped_out" else "",
                    "attendance_pct": str(e.attendance),
                    "certificate": yes(e.certificate),
                }
            )
    write(directory, "enrolments.csv", enrolments)

    places = make_placements(rng, women)
    write(directory, "placements.csv", placement_rows(places))
    write(directory, "followups.csv", follow_up_rows(rng, places))

    activities, attendance = [], []
    for kind, title, topic, held_on, city, women_n, men_n, text, partners_in in ACTIVITIES:
        activities.append(
            {
                "project_code": PROJECT,
                "kind": kind,
                "title": title,
                "topic": topic,
                "held_on": iso(held_on),
                "city": city,
                "other_women": str(women_n),
                "other_men": str(men_n),
                "description": text,
            }
        )
        attendance += [
            {
                "project_code": PROJECT,
                "activity_title": title,
                "held_on": iso(held_on),
                "partner": partner,
                "staff_count": str(staff),
            }
            for partner, staff in partners_in
        ]
    write(directory, "activities.csv", activities)
    write(directory, "attendance.csv", attendance)


# --------------------------------------------------------------------------- checks

ENUMS = {
    "partner_kind": {
        "government",
        "training_provider",
        "employment_service",
        "ngo",
        "employer",
        "foundation",
        "un_agency",
        "donor",
        "foreign_delegation",
    },
    "course_kind": {"vocational", "entrepreneurship", "language", "soft_skills"},
    "migration_status": {
        "regularised_2014",
        "regularised_2017",
        "refugee",
        "asylum_seeker",
        "resident",
        "irregular",
        "other",
    },
    "education_level": {"none", "primary", "secondary", "vocational", "higher"},
    "enrolment_status": {"enrolled", "completed", "dropped_out"},
    "placement_kind": {"employment", "iga"},
    "contract_type": {
        "permanent",
        "fixed_term",
        "temporary",
        "apprenticeship",
        "self_employed",
        "informal",
    },
    "activity_kind": {"capacity_building", "awareness_workshop", "event"},
}

INSTITUTIONS_STRENGTHENED = {
    "MCMREAM",
    "MEAS",
    "OFPPT",
    EN,
    "ODCO",
    "ANAPEC",
    HJ,
    FOO,
    "GADEM",
    "ADS",
    "CNDH",
}
AWARENESS_PARTNERS = {"OFPPT", EN, "ODCO", "ANAPEC"}
CLOSING_TITLE = "Atelier sur l'intégration socio-professionnelle des migrants régularisés au Maroc"
CLOSING_ATTENDEES = {
    "MCMREAM",
    "MEAS",
    "OIM",
    HJ,
    FOO,
    "GADEM",
    "Délégation de l'Espagne",
    "Délégation du Portugal",
    "Délégation du Canada",
}
PHONE = re.compile(r"^\+212 600 \d\d \d\d \d\d$")


class Checker:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def __call__(self, ok: bool, message: str) -> None:
        if not ok:
            self.failures.append(message)


def read(directory: Path, name: str) -> list[dict[str, str]]:
    with (directory / name).open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != COLUMNS[name].split(","):
            raise SystemExit(f"{name}: columns {reader.fieldnames}")
        return list(reader)


def d(value: str) -> date:
    return date.fromisoformat(value)


def in_period(day: date) -> bool:
    return PERIOD_START <= day <= PERIOD_END


def verify(directory: Path = HERE) -> dict[str, int]:
    check = Checker()
    data = {name: read(directory, name) for name in COLUMNS}

    projects = {r["code"]: r for r in data["projects.csv"]}
    check(len(projects) == len(data["projects.csv"]) == 1, "one project, unique code")

    # partners: unique names; acronyms unique and never another partner's name
    partners = data["partners.csv"]
    names = [p["name"] for p in partners]
    acronyms = [p["acronym"] for p in partners if p["acronym"]]
    check(len(set(names)) == len(names), "partner names unique")
    check(len(set(acronyms)) == len(acronyms), "partner acronyms unique")
    check(not set(acronyms) & set(names), "no acronym equals a partner name")
    key_of: dict[str, dict[str, str]] = {}
    for p in partners:
        check(p["kind"] in ENUMS["partner_kind"], f"partner kind {p['kind']}")
        check(len(p["country"]) == 3 and p["country"].isupper(), f"country {p['country']}")
        check(p["source"] in (NAMED, ADDED, FICTITIOUS), f"source {p['source']}")
        check(p["kind"] != "employer" or p["source"] == FICTITIOUS, f"employer {p['name']}")
        key_of[p["name"]] = p
        if p["acronym"]:
            key_of[p["acronym"]] = p

    # courses
    courses: dict[tuple[str, str], dict[str, str]] = {}
    for c in data["courses.csv"]:
        key = (c["title"], c["start_date"])
        check(key not in courses, f"course key {key} unique")
        courses[key] = c
        check(c["project_code"] in projects, f"course project {c['project_code']}")
        check(c["provider"] in key_of, f"course provider {c['provider']}")
        check(c["kind"] in ENUMS["course_kind"], f"course kind {c['kind']}")
        check(d(c["start_date"]) <= d(c["end_date"]), f"course dates {key}")
        check(date(2014, 9, 1) <= d(c["start_date"]), f"course start {key}")
        check(d(c["end_date"]) <= date(2016, 10, 31), f"course end {key}")

    # participants
    people: dict[str, dict[str, str]] = {}
    phones, full_names = set(), Counter()
    ages = Counter()
    for p in data["participants.csv"]:
        code = p["code"]
        check(code not in people, f"participant code {code} unique")
        people[code] = p
        check(re.fullmatch(r"IDF-MA-2014-\d{4}", code) is not None, f"code {code}")
        check(p["sex"] == "F", f"{code} is a woman")
        check(p["nationality"] in NATIONALITIES, f"{code} nationality")
        check(REGION_OF_CITY.get(p["city"]) == p["region"], f"{code} region/city")
        check(PHONE.match(p["phone"]) is not None, f"{code} phone {p['phone']}")
        check(p["phone"] not in phones, f"{code} phone unique")
        phones.add(p["phone"])
        check(not p["email"] or p["email"].endswith("@example.org"), f"{code} e-mail")
        check(p["migration_status"] in ENUMS["migration_status"], f"{code} status")
        check(p["education_level"] in ENUMS["education_level"], f"{code} education")
        check(
            p["consent_given"] == "yes" and p["consent_date"] == p["registered_on"],
            f"{code} consent",
        )
        check(p["project_code"] in projects, f"{code} project")
        registered = d(p["registered_on"])
        check(REGISTRATION_START <= registered <= REGISTRATION_END, f"{code} registered_on")
        age = age_on(d(p["date_of_birth"]), registered)
        check(18 <= age <= 56, f"{code} age {age}")
        ages["18-24" if age < 25 else "25-34" if age < 35 else "35-49" if age < 50 else "50+"] += 1
        full_names[fold(f"{p['given_name']} {p['family_name']}")] += 1
    check(max(full_names.values()) == 1, "full names unique")
    for pairs in NEAR_DUPLICATES.values():
        (g1, f1), (g2, f2) = pairs
        a = next(p for p in people.values() if (p["given_name"], p["family_name"]) == (g1, f1))
        b = next(p for p in people.values() if (p["given_name"], p["family_name"]) == (g2, f2))
        check(a["date_of_birth"] != b["date_of_birth"], "near duplicates born apart")
        check(a["nationality"] == b["nationality"], "near duplicates same nationality")
    check(4 <= ages["50+"] <= 8 and 8 <= ages["18-24"] <= 15, f"age spread {ages}")
    emails = sum(1 for p in people.values() if p["email"])
    check(0.18 <= emails / len(people) <= 0.32, f"{emails} e-mails")

    # enrolments
    per_course: Counter[tuple[str, str]] = Counter()
    pairs = set()
    by_person: dict[str, list[dict[str, str]]] = defaultdict(list)
    for e in data["enrolments.csv"]:
        code = e["participant_code"]
        key = (e["course_title"], e["course_start_date"])
        check(code in people, f"enrolment participant {code}")
        check(key in courses, f"enrolment course {key}")
        if code not in people or key not in courses:
            continue
        check((code, key) not in pairs, f"enrolment {code} {key} unique")
        pairs.add((code, key))
        per_course[key] += 1
        by_person[code].append(e)
        course = courses[key]
        start, end = d(course["start_date"]), d(course["end_date"])
        enrolled = d(e["enrolled_on"])
        check(d(people[code]["registered_on"]) <= enrolled <= start, f"{code} enrolled_on")
        status = e["status"]
        check(status in ("completed", "dropped_out"), f"{code} closed enrolment")
        if status == "completed":
            check(
                not e["dropped_on"] and start <= d(e["completed_on"]) <= end, f"{code} completed_on"
            )
        else:
            check(
                not e["completed_on"] and start <= d(e["dropped_on"]) <= end, f"{code} dropped_on"
            )
            check(e["certificate"] == "no", f"{code} certificate without completion")
        check(0 <= int(e["attendance_pct"]) <= 100, f"{code} attendance")
        check(e["certificate"] in ("yes", "no"), f"{code} certificate")
    for key, n in per_course.items():
        check(n <= int(courses[key]["capacity"]), f"capacity of {key}: {n}")

    def completions(code: str) -> list[dict[str, str]]:
        return [
            e
            for e in by_person.get(code, [])
            if e["status"] == "completed" and in_period(d(e["completed_on"]))
        ]

    trained = {code for code in people if completions(code)}
    two = {code for code in trained if len(completions(code)) >= 2}
    dropped = {c for c in people if any(e["status"] == "dropped_out" for e in by_person[c])}
    never = {code for code in people if not by_person.get(code)}
    check(len(trained) == 135, f"trained {len(trained)}")
    check(all(people[c]["sex"] == "F" for c in trained), "trained are women")
    check(15 <= len(two) <= 20, f"two trainings {len(two)}")
    check(2 <= len(dropped & trained) <= 3, f"dropped then completed {len(dropped & trained)}")
    check(12 <= len(dropped - trained) <= 15, f"drop-outs only {len(dropped - trained)}")
    check(5 <= len(never) <= 8, f"never enrolled {len(never)}")

    # placements
    placements: dict[tuple[str, str, str], dict[str, str]] = {}
    for p in data["placements.csv"]:
        code = p["participant_code"]
        key = (code, p["kind"], p["start_date"])
        check(key not in placements, f"placement {key} unique")
        placements[key] = p
        check(code in people, f"placement participant {code}")
        check(p["project_code"] in projects, f"placement project {code}")
        check(p["kind"] in ENUMS["placement_kind"], f"placement kind {key}")
        check(p["contract_type"] in ENUMS["contract_type"], f"contract {key}")
        start = d(p["start_date"])
        check(start <= PERIOD_END, f"placement start {key}")
        done = [d(e["completed_on"]) for e in completions(code)]
        check(bool(done) and start > max(done), f"placement after completion {key}")
        check(not p["end_date"] or d(p["end_date"]) >= start, f"placement end {key}")
        check(1500 <= int(p["monthly_income"]) <= 4000, f"income {key}")
        check(p["referral_partner"] in key_of, f"referral {p['referral_partner']}")
        check(p["verified"] in ("yes", "no"), f"verified {key}")
        if p["kind"] == "employment":
            employer = key_of.get(p["employer"])
            check(employer is not None and employer["kind"] == "employer", f"employer {key}")
            check(not p["business_name"], f"no business for a job {key}")
            check(p["contract_type"] != "self_employed", f"job contract {key}")
        else:
            check(not p["employer"] and bool(p["business_name"]), f"iga business {key}")
            check(p["contract_type"] == "self_employed", f"iga contract {key}")
    kinds_of: dict[str, set[str]] = defaultdict(set)
    for code, kind, start in placements:
        if in_period(d(start)):
            kinds_of[code].add(kind)
    placed = set(kinds_of)
    check(len(placed) == 41, f"placed {len(placed)}")
    check(placed <= trained, "placed among the trained")
    emp_only = sum(1 for k in kinds_of.values() if k == {"employment"})
    iga_only = sum(1 for k in kinds_of.values() if k == {"iga"})
    both = sum(1 for k in kinds_of.values() if k == {"employment", "iga"})
    check((emp_only, iga_only, both) == (17, 23, 1), f"split {emp_only}/{iga_only}/{both}")
    rows_by_kind = Counter(kind for _, kind, _ in placements)
    check(rows_by_kind == {"employment": 18, "iga": 24}, f"placement rows {rows_by_kind}")

    # follow-ups
    follow_keys = set()
    by_months: Counter[int] = Counter()
    for f in data["followups.csv"]:
        key = (f["participant_code"], f["placement_kind"], f["placement_start_date"])
        check(key in placements, f"follow-up placement {key}")
        months = int(f["months_after"])
        check(months in (3, 6, 12), f"months_after {months}")
        check((key, months) not in follow_keys, f"follow-up {key} {months} unique")
        follow_keys.add((key, months))
        by_months[months] += 1
        followed = d(f["followed_on"])
        check(d(f["placement_start_date"]) < followed <= FOLLOW_UP_LIMIT, f"followed_on {key}")
        check(f["still_active"] in ("yes", "no"), f"still_active {key}")
        check(f["still_active"] == "yes" or not f["monthly_income"], f"income when stopped {key}")
    check(by_months[3] >= len(placements) - 3, f"3-month follow-ups {by_months[3]}")
    check(by_months[6] >= len(placements) * 0.75, f"6-month follow-ups {by_months[6]}")
    early = [k for k in placements if d(k[2]) < date(2016, 7, 1)]
    check(all((k, 12) in follow_keys for k in early), "12-month follow-ups before mid-2016")

    # activities and attendance
    activities: dict[tuple[str, str], dict[str, str]] = {}
    for a in data["activities.csv"]:
        key = (a["title"], a["held_on"])
        check(key not in activities, f"activity {key} unique")
        activities[key] = a
        check(a["kind"] in ENUMS["activity_kind"], f"activity kind {key}")
        check(int(a["other_women"]) >= 0 and int(a["other_men"]) >= 0, f"attendees {key}")
    attended: dict[str, set[str]] = defaultdict(set)
    seen = set()
    closing: set[str] = set()
    for row in data["attendance.csv"]:
        key = (row["activity_title"], row["held_on"])
        check(key in activities, f"attendance activity {key}")
        check(row["partner"] in key_of, f"attendance partner {row['partner']}")
        if key not in activities or row["partner"] not in key_of:
            continue
        partner = key_of[row["partner"]]["name"]
        check((key, partner) not in seen, f"attendance {key} {partner} unique")
        seen.add((key, partner))
        check(1 <= int(row["staff_count"]) <= 6, f"staff count {key}")
        activity = activities[key]
        if in_period(d(activity["held_on"])):
            attended[activity["kind"]].add(partner)
        if key == (CLOSING_TITLE, "2017-02-21"):
            closing.add(partner)

    def names_of(keys: set[str]) -> set[str]:
        return {key_of[k]["name"] for k in keys}

    strengthened = attended["capacity_building"]
    awareness = attended["awareness_workshop"]
    check(strengthened == names_of(INSTITUTIONS_STRENGTHENED), f"strengthened {strengthened}")
    check(len(strengthened) == 11, f"institutions strengthened {len(strengthened)}")
    check(awareness == names_of(AWARENESS_PARTNERS), f"awareness partners {awareness}")
    closing_row = activities.get((CLOSING_TITLE, "2017-02-21"))
    check(closing_row is not None and closing_row["kind"] == "event", "closing workshop")
    check(closing_row is not None and closing_row["city"] == "Rabat", "closing city")
    check(closing == names_of(CLOSING_ATTENDEES), f"closing attendees {closing}")
    outsiders = {
        p["name"]
        for p in partners
        if p["kind"] in ("un_agency", "donor", "foreign_delegation", "employer")
    }
    check(not outsiders & (strengthened | awareness), "no IOM, donor, delegation or employer")

    if check.failures:
        raise SystemExit("seed data checks failed:\n  " + "\n  ".join(check.failures))
    return {
        "registered": len(people),
        "trained": len(trained),
        "two_trainings": len(two),
        "dropped_then_completed": len(dropped & trained),
        "dropped_only": len(dropped - trained),
        "never_enrolled": len(never),
        "placed": len(placed),
        "employment_only": emp_only,
        "iga_only": iga_only,
        "job_and_iga": both,
        "institutions_strengthened": len(strengthened),
        "awareness_partners": len(awareness),
        **{f"rows:{name}": len(rows) for name, rows in data.items()},
    }


if __name__ == "__main__":
    generate()
    for key, value in verify().items():
        print(f"{key:28} {value}")
