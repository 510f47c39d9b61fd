"""Name pools for the synthetic organisation: plausible, varied, obviously fictional.

The organisation is "Northmoor" (a made-up council) and every address is on the
reserved `.example` domain, so a demo database can never mail a real person.
"""

from __future__ import annotations

EMAIL_DOMAIN = "northmoor.example"

FIRST_NAMES: tuple[str, ...] = (
    "Aisha", "Amara", "Amelia", "Amir", "Ana", "Ben", "Bethany", "Callum", "Chidi", "Chloe",
    "Connor", "Daniel", "Deborah", "Dev", "Ella", "Emeka", "Emily", "Eve", "Fatima", "Finley",
    "Freya", "Gareth", "Grace", "Hana", "Harriet", "Harvey", "Imran", "Isla", "Jack", "Jade",
    "Jamal", "Jasmine", "Joel", "Joseph", "Kai", "Kavita", "Kemi", "Laura", "Leah", "Liam",
    "Lucy", "Maya", "Megan", "Mohammed", "Nadia", "Naomi", "Nathan", "Niamh", "Noah", "Olu",
    "Oliver", "Omar", "Patrick", "Priya", "Rachel", "Rhys", "Rosa", "Ruth", "Ryan", "Safa",
    "Sam", "Sara", "Sean", "Shauna", "Simone", "Sophie", "Tariq", "Theo", "Tom", "Uma",
    "Victoria", "Wiktoria", "Yusuf", "Zainab", "Zoe", "Adebayo", "Bronwen", "Ciaran",
    "Dominika", "Elif", "Gethin", "Ifeoma", "Kiran", "Lowri", "Marek", "Nkechi", "Oisin",
    "Parveen", "Rania", "Siobhan", "Tomasz", "Yasmin",
)

LAST_NAMES: tuple[str, ...] = (
    "Abbott", "Adeyemi", "Ahmed", "Ali", "Anderson", "Bailey", "Baker", "Begum", "Bell",
    "Bennett", "Brown", "Campbell", "Carter", "Chen", "Clarke", "Collins", "Cooper", "Davies",
    "Edwards", "Evans", "Fletcher", "Foster", "Green", "Griffiths", "Hall", "Harris",
    "Hughes", "Hussain", "Jackson", "James", "Jenkins", "Johnson", "Jones", "Kaur", "Kelly",
    "Khan", "King", "Kowalski", "Lewis", "Lloyd", "Malik", "Marshall", "Martin", "Mensah",
    "Mitchell", "Moore", "Morgan", "Murphy", "Nowak", "Nwosu", "O'Brien", "Okafor", "Owen",
    "Parker", "Patel", "Phillips", "Price", "Rahman", "Reid", "Roberts", "Robinson", "Rose",
    "Shah", "Singh", "Smith", "Stewart", "Taylor", "Thomas", "Thompson", "Turner", "Walker",
    "Ward", "Watson", "White", "Williams", "Wilson", "Wood", "Wright", "Yilmaz", "Young",
)

# Localities name the service areas and teams of larger organisations.
LOCALITIES: tuple[str, ...] = (
    "North", "South", "East", "West", "Central", "Riverside", "Moorside", "Harbour",
    "Valley", "Castle", "Forest", "Bridge", "Market", "Station", "Hillside", "Parkway",
    "Abbey", "Quayside", "Greenway", "Millfield",
)

# The three service areas of the small (demo) organisation, in order.
DEMO_SERVICE_AREAS: tuple[str, ...] = (
    "Early Help and Assessment",
    "Safeguarding and Family Support",
    "Children in Care and Care Leavers",
)
