"""The values a volunteer types on a phone: Hindi names, youth ages, mobiles, EPICs."""

import random
import uuid

MALE = ("राहुल", "अमित", "सुनील", "राजेश", "विकास", "मनोज", "संजय", "दीपक", "रवि", "अजय")
MALE += ("बिरसा", "सोमरा", "करमा", "बुधन", "मंगल", "सूरज", "अनिल", "प्रदीप", "गणेश", "शिबू")
FEMALE = ("सुनीता", "प्रिया", "रीना", "पूजा", "अनीता", "सीमा", "कविता", "रूपा", "सरिता", "मीना")
FEMALE += ("सलोनी", "जसिंता", "फूलमनी", "सोनी", "बसंती", "ललिता", "ममता", "रश्मि", "नेहा", "गीता")
SURNAMES = ("महतो", "मुंडा", "उराँव", "सोरेन", "हेम्ब्रम", "टुडू", "किस्कू", "मरांडी", "तिर्की")
SURNAMES += ("एक्का", "लकड़ा", "कुमार", "यादव", "साहू", "सिंह", "प्रसाद", "गोप", "मांझी", "बेसरा")
SKILLS = ("speaker", "social_media", "writing", "organiser", "booth_management", "other")
NOTES = (
    "बैठक में नियमित आते हैं",
    "स्मार्टफोन नहीं है, परिवार का फोन",
    "कॉलेज में पढ़ती हैं, शाम को उपलब्ध",
    "गाँव के युवा मंडल से जुड़े हैं",
    "पिछले चुनाव में बूथ पर काम किया",
)
GRIEVANCE_CATEGORIES = ("road", "water", "electricity", "ration", "pension", "mgnrega")
GRIEVANCE_CATEGORIES += ("health", "education", "land", "official_conduct", "other")
GRIEVANCE_TEXTS = (
    "गाँव की मुख्य सड़क बरसात में पूरी तरह टूट गई है, स्कूल के बच्चे और मरीज नहीं जा पाते।",
    "चापाकल तीन महीने से खराब है, महिलाओं को दो किलोमीटर दूर से पानी लाना पड़ता है।",
    "राशन डीलर पूरा अनाज नहीं देता और अंगूठा लगवाकर लौटा देता है।",
    "वृद्धा पेंशन छह महीने से खाते में नहीं आई, प्रखंड कार्यालय में कोई सुनवाई नहीं।",
    "मनरेगा की मजदूरी चार महीने से बकाया है, मेट कहता है ऊपर से पैसा नहीं आया।",
    "ट्रांसफार्मर जल गया है, बीस दिन से गाँव में बिजली नहीं है।",
    "स्वास्थ्य उपकेंद्र में एएनएम हफ्ते में एक दिन ही आती हैं।",
)


class Typist:
    """Makes the values a volunteer types: Hindi names, youth ages, mobiles, EPICs."""

    def __init__(self, seed: int, epic_prefix: str = "JHB"):
        self.random = random.Random(seed)
        self.epic_prefix = epic_prefix
        self.epics = 0

    def phone(self):
        return str(self.random.choice("6789")) + "".join(
            self.random.choice("0123456789") for _ in range(9)
        )

    def name(self, gender):
        first = self.random.choice(FEMALE if gender == "female" else MALE)
        return f"{first} {self.random.choice(SURNAMES)}"

    def member(self, booth_id) -> dict:
        gender = self.random.choice(("male", "female", "male", "female", "other"))
        values = {
            "booth_id": booth_id,
            "name": self.name(gender),
            "age": self.random.randint(18, 35),
            "gender": gender,
            "phone": self.phone(),
            "skills": self.random.sample(SKILLS, self.random.randint(0, 3)),
            "consent": True,
        }
        if self.random.random() < 0.7:
            # EPICs are unique state-wide: a prefix per typist and a counter.
            self.epics += 1
            values["epic"] = f"{self.epic_prefix}{self.epics:07d}"
        return values

    def member_edit(self, field_name) -> dict:
        if field_name == "notes":
            return {"notes": self.random.choice(NOTES)}
        if field_name == "phone":
            return {"phone": self.phone()}
        if field_name == "skills":
            return {"skills": self.random.sample(SKILLS, self.random.randint(1, 3))}
        if field_name == "age":
            return {"age": self.random.randint(18, 35)}
        return {"name": self.name(self.random.choice(("male", "female")))}

    def grievance(self, booth_id, now) -> dict:
        return {
            "booth_id": booth_id,
            "category": self.random.choice(GRIEVANCE_CATEGORIES),
            "description": self.random.choice(GRIEVANCE_TEXTS),
            "complainant_name": self.name(self.random.choice(("male", "female"))),
            "complainant_phone": self.phone(),
            "against": self.random.choice(("", "", "BDO", "CO", "राशन डीलर")),
            "created_at": now - self.random.randint(0, 14 * 86_400_000),
        }


def uuid_from(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
