"""Vocabulary for the seed generator: names, companies, titles and places.

Picklist values are not here: the seed reads them from the org's schema so generated rows
always pass its validation.

Names come as (display, ascii) pairs so e-mail addresses stay plain ASCII while the
display names exercise apostrophes, diacritics and non-Latin scripts, the cases connectors
most often mangle.
"""

from __future__ import annotations

FIRST_NAMES: tuple[tuple[str, str], ...] = (
    ("James", "james"), ("Mary", "mary"), ("Robert", "robert"), ("Patricia", "patricia"),
    ("John", "john"), ("Jennifer", "jennifer"), ("Michael", "michael"), ("Linda", "linda"),
    ("David", "david"), ("Elizabeth", "elizabeth"), ("William", "william"), ("Susan", "susan"),
    ("Richard", "richard"), ("Jessica", "jessica"), ("Joseph", "joseph"), ("Sarah", "sarah"),
    ("Thomas", "thomas"), ("Karen", "karen"), ("Daniel", "daniel"), ("Emily", "emily"),
    ("Matthew", "matthew"), ("Olivia", "olivia"), ("Anthony", "anthony"), ("Emma", "emma"),
    ("Mark", "mark"), ("Sophia", "sophia"), ("Paul", "paul"), ("Grace", "grace"),
    ("Andrew", "andrew"), ("Chloe", "chloe"), ("Kevin", "kevin"), ("Hannah", "hannah"),
    ("Brian", "brian"), ("Laura", "laura"), ("Ryan", "ryan"), ("Megan", "megan"),
    ("Zoë", "zoe"), ("Łukasz", "lukasz"), ("José", "jose"), ("François", "francois"),
    ("Søren", "soren"), ("Björn", "bjorn"), ("Chloé", "chloe"), ("Renée", "renee"),
    ("Małgorzata", "malgorzata"), ("Jürgen", "jurgen"), ("Ånund", "anund"),
    ("Siobhán", "siobhan"), ("Seán", "sean"), ("Nuño", "nuno"), ("İlkay", "ilkay"),
    ("Dương", "duong"), ("Priya", "priya"), ("Arjun", "arjun"), ("Wei", "wei"),
    ("Mei", "mei"), ("Hiroshi", "hiroshi"), ("Yuki", "yuki"), ("花子", "hanako"),
    ("太郎", "taro"), ("Ana", "ana"), ("Luis", "luis"), ("Fatima", "fatima"),
    ("Omar", "omar"), ("Aisha", "aisha"), ("Kwame", "kwame"), ("Ngozi", "ngozi"),
    ("Jean-Luc", "jeanluc"), ("Mary-Kate", "marykate"), ("D'Arcy", "darcy"),
)

LAST_NAMES: tuple[tuple[str, str], ...] = (
    ("Smith", "smith"), ("Johnson", "johnson"), ("Williams", "williams"),
    ("Brown", "brown"), ("Jones", "jones"), ("Garcia", "garcia"), ("Miller", "miller"),
    ("Davis", "davis"), ("Rodriguez", "rodriguez"), ("Martinez", "martinez"),
    ("Hernandez", "hernandez"), ("Lopez", "lopez"), ("Wilson", "wilson"),
    ("Anderson", "anderson"), ("Taylor", "taylor"), ("Moore", "moore"),
    ("Jackson", "jackson"), ("Martin", "martin"), ("Lee", "lee"), ("Thompson", "thompson"),
    ("White", "white"), ("Harris", "harris"), ("Clark", "clark"), ("Lewis", "lewis"),
    ("Walker", "walker"), ("Hall", "hall"), ("Young", "young"), ("King", "king"),
    ("O'Brien", "obrien"), ("O'Connor", "oconnor"), ("D'Angelo", "dangelo"),
    ("O'Neil", "oneil"), ("McDonald", "mcdonald"), ("Müller", "mueller"),
    ("Schröder", "schroeder"), ("Weiß", "weiss"), ("Nowak", "nowak"),
    ("Wiśniewski", "wisniewski"), ("Kowalczyk", "kowalczyk"), ("Żak", "zak"),
    ("García-Márquez", "garciamarquez"), ("Núñez", "nunez"), ("Ødegaard", "odegaard"),
    ("Åkesson", "akesson"), ("Çelik", "celik"), ("Dvořák", "dvorak"),
    ("Nguyễn", "nguyen"), ("Lefèvre", "lefevre"), ("van der Berg", "vanderberg"),
    ("de la Cruz", "delacruz"), ("Patel", "patel"), ("Sharma", "sharma"),
    ("Chen", "chen"), ("Wang", "wang"), ("Kim", "kim"), ("Park", "park"),
    ("Sato", "sato"), ("Suzuki", "suzuki"), ("田中", "tanaka"), ("山本", "yamamoto"),
    ("李", "li"), ("Okafor", "okafor"), ("Mensah", "mensah"), ("Haddad", "haddad"),
    ("Cohen", "cohen"), ("Rossi", "rossi"), ("Bianchi", "bianchi"), ("Silva", "silva"),
)

COMPANY_STEMS: tuple[tuple[str, str], ...] = (
    ("Acme", "acme"), ("Globex", "globex"), ("Initech", "initech"),
    ("Umbrella", "umbrella"), ("Stark", "stark"), ("Wayne", "wayne"), ("Hooli", "hooli"),
    ("Vandelay", "vandelay"), ("Soylent", "soylent"), ("Tyrell", "tyrell"),
    ("Cyberdyne", "cyberdyne"), ("Wonka", "wonka"), ("Gringotts", "gringotts"),
    ("Oscorp", "oscorp"), ("Aperture", "aperture"), ("Northwind", "northwind"),
    ("Contoso", "contoso"), ("Fabrikam", "fabrikam"), ("Litware", "litware"),
    ("Adatum", "adatum"), ("Tailspin", "tailspin"), ("Woodgrove", "woodgrove"),
    ("Blue Yonder", "blueyonder"), ("Pied Piper", "piedpiper"),
    ("Massive Dynamic", "massivedynamic"), ("Sterling Cooper", "sterlingcooper"),
    ("Dunder Mifflin", "dundermifflin"), ("Bluth", "bluth"),
    ("Prestige Worldwide", "prestigeworldwide"), ("Monarch", "monarch"),
    ("Zenith", "zenith"), ("Apex", "apex"), ("Summit", "summit"), ("Pinnacle", "pinnacle"),
    ("Horizon", "horizon"), ("Evergreen", "evergreen"), ("Redwood", "redwood"),
    ("Silverline", "silverline"), ("Bright Harbor", "brightharbor"),
    ("Keystone", "keystone"), ("O'Reilly", "oreilly"), ("Dell'Acqua", "dellacqua"),
    ("Müller", "mueller"), ("Lindqvist", "lindqvist"), ("Søndergaard", "sondergaard"),
    ("Łódź Tech", "lodztech"), ("Zürich Re", "zurichre"),
    ("São Paulo Trading", "saopaulotrading"), ("東京", "tokyo"), ("Nakamura", "nakamura"),
    ("Kowalski", "kowalski"), ("Renault-Dubois", "renaultdubois"),
)

COMPANY_SUFFIXES: tuple[str, ...] = (
    "Inc.", "Corp.", "LLC", "Ltd", "Group", "Holdings", "Labs", "Systems", "Partners",
    "GmbH", "S.A.", "AG", "Industries", "Solutions", "Technologies", "& Co.",
)

TITLES: tuple[str, ...] = (
    "CEO", "CFO", "CTO", "COO", "VP, Sales", "VP, Marketing", "VP, Engineering",
    "Director of Operations", "Director, IT", "Head of Growth", "Marketing Manager",
    "Sales Manager", "Account Executive", "Product Manager", "Software Engineer",
    "Data Analyst", "Procurement Specialist", "Office Manager", "Customer Success Manager",
    "HR Business Partner", "Controller", "Buyer", "SVP, Customer Experience",
    "Chief Revenue Officer", "Engineer \u2014 Platform", "Owner",
)

DEPARTMENTS: tuple[str, ...] = (
    "Sales", "Marketing", "Engineering", "Finance", "Operations", "IT", "Procurement",
    "Human Resources", "Customer Success", "Executive",
)

OPPORTUNITY_PRODUCTS: tuple[str, ...] = (
    "Platform Licence", "Annual Renewal", "Expansion", "Onboarding Services", "Support Plan",
    "Pilot", "Enterprise Upgrade", "Training Package",
)

# (subject, Task.Type); picklist values themselves come from the org's schema.
TASK_SUBJECTS: tuple[tuple[str, str], ...] = (
    ("Call", "Call"), ("Email", "Email"), ("Send Letter", "Other"), ("Send Quote", "Other"),
    ("Follow-up call", "Call"), ("Demo meeting", "Meeting"), ("Intro e-mail", "Email"),
    ("Contract review", "Other"), ("Renewal check-in", "Call"),
)

# (city, country, phone format); phone formats use fictional number ranges.
PLACES: tuple[tuple[str, str, str], ...] = (
    ("San Francisco", "United States", "+1 415-555-{0:04d}"),
    ("New York", "United States", "(212) 555-{0:04d}"),
    ("Chicago", "United States", "+1 312 555 {0:04d}"),
    ("Austin", "United States", "512.555.{0:04d}"),
    ("Toronto", "Canada", "+1 416-555-{0:04d}"),
    ("London", "United Kingdom", "+44 20 7946 {0:04d}"),
    ("Dublin", "Ireland", "+353 1 555 {0:04d}"),
    ("Berlin", "Germany", "+49 30 5550{0:04d}"),
    ("München", "Germany", "+49 89 5550{0:04d}"),
    ("Paris", "France", "+33 1 55 55 {0:04d}"),
    ("Kraków", "Poland", "+48 12 555 {0:04d}"),
    ("São Paulo", "Brazil", "+55 11 5555-{0:04d}"),
    ("Zürich", "Switzerland", "+41 44 555 {0:04d}"),
    ("Tokyo", "Japan", "+81 3-5555-{0:04d}"),
    ("Sydney", "Australia", "+61 2 5550 {0:04d}"),
    ("Bengaluru", "India", "+91 80 5555 {0:04d}"),
)

EMAIL_DOMAINS_FREE: tuple[str, ...] = (
    "gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "proton.me", "icloud.com",
)
