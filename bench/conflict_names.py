"""Synthetic company names for bench/conflicts.py: existing registrations in eight languages
and the names a new registration would type for them (typos, legal forms, case, order...)."""

from __future__ import annotations

import random
import unicodedata

SYLLABLES = [
    "ac",
    "al",
    "am",
    "an",
    "ar",
    "as",
    "at",
    "ax",
    "ba",
    "be",
    "bi",
    "bo",
    "bra",
    "bri",
    "ca",
    "ce",
    "ci",
    "co",
    "cor",
    "cra",
    "cu",
    "da",
    "de",
    "di",
    "do",
    "dra",
    "du",
    "el",
    "em",
    "en",
    "er",
    "ex",
    "fa",
    "fe",
    "fi",
    "fo",
    "fra",
    "ga",
    "ge",
    "gi",
    "go",
    "gra",
    "ha",
    "he",
    "hi",
    "ho",
    "hy",
    "in",
    "io",
    "ka",
    "ke",
    "ki",
    "ko",
    "kra",
    "la",
    "le",
    "li",
    "lo",
    "lu",
    "ly",
    "ma",
    "me",
    "mi",
    "mo",
    "mu",
    "na",
    "ne",
    "ni",
    "no",
    "nu",
    "nova",
    "ny",
    "ol",
    "om",
    "on",
    "or",
    "pa",
    "pe",
    "pi",
    "po",
    "pra",
    "pro",
    "qua",
    "ra",
    "re",
    "ri",
    "ro",
    "ru",
    "sa",
    "se",
    "si",
    "so",
    "sta",
    "su",
    "syn",
    "ta",
    "te",
    "ti",
    "to",
    "tra",
    "tri",
    "tu",
    "ul",
    "um",
    "un",
    "ur",
    "va",
    "ve",
    "vi",
    "vo",
    "xa",
    "xi",
    "ya",
    "yo",
    "za",
    "ze",
    "zi",
    "zo",
    "zen",
    "tek",
    "lux",
    "lex",
    "nix",
    "vox",
    "tron",
    "dex",
    "max",
    "rex",
    "flex",
    "gen",
    "sys",
]
ENDINGS = [
    "a",
    "o",
    "ia",
    "ix",
    "ex",
    "on",
    "an",
    "en",
    "is",
    "us",
    "um",
    "ar",
    "el",
    "ix",
    "io",
    "ico",
    "ica",
    "ent",
    "era",
    "ora",
    "ona",
    "ium",
    "tech",
    "soft",
]

LATIN = {
    "en": {
        "surnames": "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor "
        "Thomas Moore Martin Jackson Thompson White Harris Clark Lewis Robinson Walker Young "
        "Allen King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts Carter "
        "Phillips Evans Turner Parker Collins Edwards Stewart Morris Murphy Cook Rogers",
        "places": "London Boston Chicago Texas Pacific Atlantic Northern Southern Western Eastern "
        "Midland Bay Valley Summit Harbor Lake River Mountain Golden Silver Sterling Liberty "
        "Phoenix Denver Austin Seattle Dallas Oxford Cambridge Manchester York Victoria",
        "generic": "Tech Technologies Global Systems Solutions Services Consulting Holdings "
        "International Industries Trading Logistics Software Digital Networks Partners Capital "
        "Energy Engineering Manufacturing Foods Pharma Media Design Data Labs Electronics "
        "Medical Supply Retail Enterprises Ventures Analytics Security Cloud Robotics Materials "
        "Automotive Construction Healthcare Financial Marketing Resources Innovations",
        "legal": "Inc|Inc.|Corp.|Corporation|LLC|L.L.C.|Ltd|Ltd.|Limited|PLC|Co.|Company|LLP|"
        "Co., Ltd.|Pty Ltd|Incorporated",
        "and": "&",
    },
    "de": {
        "surnames": "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann "
        "Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger "
        "Hofmann Hartmann Lange Schmitt Werner Krause Meier Lehmann Köhler Huber",
        "places": "Bayern Berlin Hamburg München Rhein Nord Süd Ost West Alpen Elbe Main Sachsen "
        "Hessen Schwaben Franken Baden Köln Dresden Leipzig Stuttgart",
        "generic": "Technik Systeme Dienstleistungen Handel Logistik Beratung Software "
        "Elektronik Maschinenbau Immobilien Bau Verwaltung Vertrieb Industrie Automation Energie "
        "Anlagenbau Metallbau Werkzeuge Medizintechnik Informatik Verpackung Kunststoff",
        "legal": "GmbH|AG|KG|GmbH & Co. KG|mbH|UG (haftungsbeschränkt)|e.K.|OHG|SE",
        "and": "&|und",
    },
    "fr": {
        "surnames": "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau "
        "Simon Laurent Lefèvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard "
        "André Mercier Dupont Lambert Bonnet François Martinez",
        "places": "Paris Lyon Marseille Provence Bretagne Normandie Alsace Loire Atlantique "
        "Méditerranée Rhône Azur Aquitaine Bourgogne Savoie Occitanie",
        "generic": "Technologies Services Conseil Industrie Distribution Solutions Informatique "
        "Logistique Ingénierie Systèmes Électronique Énergie Bâtiment Transports Finance "
        "Communication Environnement Santé Équipements Développement",
        "legal": "SA|S.A.|SAS|S.A.S.|SARL|S.A.R.L.|EURL|SNC|et Cie",
        "and": "&|et",
    },
    "es": {
        "surnames": "García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez "
        "Martín Jiménez Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro "
        "Torres Domínguez Vázquez Ramos",
        "places": "Madrid Barcelona Valencia Sevilla Andalucía Galicia Cataluña Castilla Ibérica "
        "Mediterráneo Atlántico Canarias Levante Norte Sur Bilbao Málaga",
        "generic": "Tecnología Servicios Soluciones Distribuciones Consultoría Ingeniería "
        "Logística Comercial Industrial Construcciones Inversiones Sistemas Energía Alimentación "
        "Transportes Informática Telecomunicaciones Gestión",
        "legal": "S.A.|SA|S.L.|SL|S.L.U.|S.A.U.|Sociedad Anónima|S.A. de C.V.",
        "and": "y",
    },
    "it": {
        "surnames": "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco "
        "Bruno Gallo Conti De Luca Costa Giordano Mancini Rizzo Lombardi Moretti Barbieri "
        "Fontana Santoro Mariani Rinaldi",
        "places": "Milano Roma Torino Napoli Veneto Toscana Lombardia Emilia Sicilia Adriatica "
        "Tirrena Alpina Padana Liguria Piemonte Firenze Bologna",
        "generic": "Tecnologie Servizi Soluzioni Sistemi Consulenze Ingegneria Logistica "
        "Commerciale Industriale Costruzioni Impianti Elettronica Informatica Meccanica "
        "Alimentari Trasporti Energia Distribuzione",
        "legal": "S.p.A.|SpA|S.r.l.|Srl|SRL|S.a.s.|S.n.c.",
        "and": "&|e",
    },
    "nl": {
        "surnames": "de Jong Jansen de Vries van den Berg van Dijk Bakker Janssen Visser Smit "
        "Meijer de Boer Mulder de Groot Bos Vos Peters Hendriks van Leeuwen Dekker Brouwer",
        "places": "Holland Amsterdam Rotterdam Utrecht Brabant Zeeland Friesland Limburg Delta "
        "Noord Zuid Oost West Gelderland Eindhoven Haarlem",
        "generic": "Techniek Diensten Systemen Handel Advies Bouw Logistiek Installatie "
        "Automatisering Transport Beheer Vastgoed Media Software Energie Projecten Groothandel",
        "legal": "B.V.|BV|N.V.|NV|V.O.F.|Holding B.V.",
        "and": "&|en",
    },
}

ZH_CITIES = [
    "北京",
    "上海",
    "深圳",
    "广州",
    "杭州",
    "南京",
    "苏州",
    "成都",
    "武汉",
    "西安",
    "天津",
    "重庆",
    "青岛",
    "厦门",
    "宁波",
    "无锡",
    "长沙",
    "郑州",
    "济南",
    "合肥",
    "福州",
    "大连",
    "沈阳",
    "东莞",
    "佛山",
    "珠海",
    "昆明",
    "哈尔滨",
    "长春",
    "石家庄",
]
ZH_CHARS = [
    "华",
    "信",
    "中",
    "国",
    "金",
    "海",
    "天",
    "新",
    "达",
    "通",
    "恒",
    "盛",
    "鑫",
    "宏",
    "东",
    "方",
    "明",
    "光",
    "安",
    "泰",
    "和",
    "瑞",
    "祥",
    "兴",
    "德",
    "隆",
    "丰",
    "润",
    "嘉",
    "源",
    "博",
    "创",
    "科",
    "远",
    "航",
    "星",
    "辉",
    "腾",
    "飞",
    "龙",
    "凤",
    "宇",
    "宙",
    "联",
    "合",
    "正",
    "大",
    "万",
    "利",
    "佳",
    "美",
    "优",
    "智",
    "慧",
    "云",
    "数",
    "汇",
    "富",
    "荣",
    "昌",
    "永",
    "长",
    "久",
    "康",
    "健",
    "力",
    "威",
    "豪",
    "俊",
    "锦",
    "绣",
    "春",
    "秋",
    "阳",
    "晨",
    "北",
    "南",
    "西",
    "蓝",
    "绿",
    "红",
    "银",
    "铭",
    "益",
    "众",
    "同",
    "启",
    "迪",
    "卓",
    "越",
    "凯",
    "旋",
    "诚",
    "立",
    "邦",
    "顺",
    "捷",
    "迅",
    "驰",
    "骏",
    "朗",
    "亿",
    "百",
    "千",
    "峰",
    "山",
    "川",
    "江",
    "河",
    "湖",
]
ZH_INDUSTRIES = [
    "科技",
    "贸易",
    "电子",
    "实业",
    "信息技术",
    "网络科技",
    "生物科技",
    "机械",
    "化工",
    "建设",
    "物流",
    "投资",
    "医药",
    "软件",
    "通信",
    "能源",
    "新材料",
    "食品",
    "服饰",
    "环保",
    "电气",
    "智能科技",
    "数据科技",
    "文化传媒",
    "进出口",
    "工程",
    "设备",
    "光电",
    "汽车配件",
    "自动化",
    "电力",
    "包装",
    "精密",
    "半导体",
    "仪器",
]
ZH_LEGAL = (
    "有限公司",
    "有限公司",
    "有限公司",
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "集团",
)

JA_KATAKANA = [
    "アイ",
    "アル",
    "イノ",
    "エコ",
    "エム",
    "オリ",
    "カワ",
    "キタ",
    "クラ",
    "ケン",
    "コー",
    "サン",
    "シン",
    "スズ",
    "セイ",
    "ソニ",
    "タカ",
    "テク",
    "トヨ",
    "ナカ",
    "ニチ",
    "ノア",
    "ハヤ",
    "ヒカ",
    "フジ",
    "ベル",
    "ホク",
    "マツ",
    "ミツ",
    "ミラ",
    "ヤマ",
    "ユニ",
    "ライ",
    "リコ",
    "ワイ",
]
JA_TAIL = ["ス", "ン", "ト", "ク", "ル", "ア", "テック", "ックス", "ロン", "ニクス"]
JA_KANJI = [
    "日本",
    "東京",
    "大阪",
    "三菱",
    "住友",
    "富士",
    "日立",
    "東洋",
    "大和",
    "中央",
    "北海",
    "九州",
    "関西",
    "共同",
    "太平",
    "第一",
    "新日",
    "昭和",
    "平和",
    "丸紅",
    "伊藤",
    "山田",
    "田中",
    "高橋",
    "鈴木",
    "佐藤",
    "森",
    "松下",
    "石川",
    "岡本",
]
JA_INDUSTRIES = [
    "電機",
    "工業",
    "商事",
    "製作所",
    "建設",
    "物産",
    "化学",
    "食品",
    "電子",
    "システム",
    "ソリューションズ",
    "テクノロジー",
    "精機",
    "産業",
    "運輸",
    "不動産",
    "製薬",
    "情報",
    "通信",
    "エンジニアリング",
]
JA_LEGAL = ("株式会社", "株式会社", "株式会社", "合同会社", "有限会社", "(株)")

LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "zh", "ja")
WEIGHTS = (30, 11, 9, 8, 8, 5, 21, 8)


class Names:
    """Deterministic name generator (one ``random.Random``)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.latin = {
            code: {
                key: value.split("|" if key in ("legal", "and") else None)
                for key, value in parts.items()
            }
            for code, parts in LATIN.items()
        }
        for parts in self.latin.values():
            # Surnames of two words ("de Jong", "van den Berg", "De Luca") stay together.
            parts["surnames"] = _join_particles(parts["surnames"])

    def brand(self) -> str:
        rng = self.rng
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 2, 2, 2, 3))))
        return (word + rng.choice(ENDINGS)).capitalize()

    def name(self) -> tuple[str, str]:
        """A company name and its language."""
        language = self.rng.choices(LANGUAGES, WEIGHTS)[0]
        if language == "zh":
            return self.chinese(), language
        if language == "ja":
            return self.japanese(), language
        return self.western(language), language

    def western(self, language: str) -> str:
        rng = self.rng
        parts = self.latin[language]
        generic = parts["generic"]
        pattern = rng.random()
        if pattern < 0.45:  # Brandname [Generic [Generic]]
            words = [self.brand()] + rng.sample(generic, rng.choice((0, 1, 1, 1, 2)))
        elif pattern < 0.65:  # Surname [& Surname] Generic
            words = [rng.choice(parts["surnames"])]
            if rng.random() < 0.35:
                words += [rng.choice(parts["and"]), rng.choice(parts["surnames"])]
            words += rng.sample(generic, rng.choice((0, 1, 1, 2)))
        elif pattern < 0.85:  # Place Generic [Generic] or Place Brand
            words = [rng.choice(parts["places"])]
            if rng.random() < 0.5:
                words.append(self.brand())
            words += rng.sample(generic, rng.choice((1, 1, 2)))
        elif pattern < 0.95:  # Brand Surname / two brands
            words = [self.brand(), self.brand()]
            words += rng.sample(generic, rng.choice((0, 1)))
        else:  # only shared words: the hardest to block
            words = rng.sample(generic, rng.choice((2, 3)))
        if rng.random() < 0.9:
            words.append(rng.choice(parts["legal"]))
        return " ".join(words)

    def chinese(self) -> str:
        rng = self.rng
        brand = "".join(rng.choice(ZH_CHARS) for _ in range(rng.choice((2, 2, 2, 3, 4))))
        city = rng.choice(ZH_CITIES) if rng.random() < 0.6 else ""
        industry = rng.choice(ZH_INDUSTRIES)
        legal = rng.choice(ZH_LEGAL) if rng.random() < 0.95 else ""
        if city and rng.random() < 0.2:  # "华信(深圳)科技有限公司"
            return f"{brand}({city}){industry}{legal}"
        return f"{city}{brand}{industry}{legal}"

    def japanese(self) -> str:
        rng = self.rng
        if rng.random() < 0.5:
            stem = rng.choice(JA_KATAKANA) + rng.choice(JA_TAIL)
        else:
            stem = rng.choice(JA_KANJI) + rng.choice(JA_KANJI)[:1]
        industry = rng.choice(JA_INDUSTRIES)
        legal = rng.choice(JA_LEGAL)
        if legal == "株式会社" and rng.random() < 0.4:
            return f"{legal}{stem}{industry}"
        return f"{stem}{industry}{legal}"

    # -- what a second registrant types for an existing name ---------------------------------

    def variant(self, name: str, language: str) -> tuple[str, str]:
        """Another spelling of ``name`` and what was changed."""
        rng = self.rng
        if language in ("zh", "ja"):
            kind = rng.choice(("suffix", "suffix", "typo", "fullwidth", "city", "spaces"))
            return self.cjk_variant(name, language, kind), kind
        kind = rng.choice(
            (
                "typo", "typo", "typo2", "suffix", "suffix", "case", "abbreviation",
                "order", "fullwidth", "accents", "punctuation", "and",
            )
        )  # fmt: skip
        words = name.split()
        parts = self.latin[language]
        if kind == "typo":
            return _typo(rng, name), kind
        if kind == "typo2":
            return _typo(rng, _typo(rng, name)), kind
        if kind == "suffix":
            legal = [
                w for w in words if w.strip(".,") in {p for x in parts["legal"] for p in x.split()}
            ]
            stem = [w for w in words if w not in legal] or words
            choice = rng.random()
            if choice < 0.4:
                return " ".join(stem), kind
            return " ".join([*stem, rng.choice(parts["legal"])]), kind
        if kind == "case":
            return rng.choice((name.upper(), name.lower(), name.title())), kind
        if kind == "abbreviation":
            abbreviated = (
                name.replace("International", "Intl").replace("Technologies", "Tech")
                .replace("Manufacturing", "Mfg").replace("Corporation", "Corp.")
                .replace("Limited", "Ltd").replace("Company", "Co.")
                .replace("Incorporated", "Inc.").replace("Services", "Svcs")
            )  # fmt: skip
            if abbreviated == name:
                return _typo(rng, name), "typo"
            return abbreviated, kind
        if kind == "order" and len(words) >= 3:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
            return " ".join(words), kind
        if kind == "fullwidth":
            return _fullwidth(name), kind
        if kind == "accents":
            stripped = unicodedata.normalize("NFKD", name)
            stripped = "".join(c for c in stripped if not unicodedata.combining(c))
            if stripped == name:
                return name.replace("a", "á", 1).replace("e", "é", 1), kind
            return stripped, kind
        if kind == "punctuation":
            return rng.choice((name.replace(" ", "-", 1), name.replace(".", ""), name + ".")), kind
        if kind == "and" and ("&" in words or parts["and"][-1] in words):
            return name.replace(" & ", " and ").replace(f" {parts['and'][-1]} ", " & "), kind
        return _typo(rng, name), "typo"

    def cjk_variant(self, name: str, language: str, kind: str) -> str:
        rng = self.rng
        legal = ZH_LEGAL if language == "zh" else JA_LEGAL
        stem = name
        for form in sorted(set(legal), key=len, reverse=True):
            stem = stem.replace(form, "")
        if kind == "suffix":
            return stem if rng.random() < 0.5 else stem + rng.choice(legal)
        if kind == "typo":
            chars = list(name)
            i = rng.randrange(len(stem))
            j = name.find(stem[i])
            pool = ZH_CHARS if language == "zh" else [k[0] for k in JA_KANJI]
            if rng.random() < 0.5 and len(stem) > 3:
                del chars[j]
            else:
                chars[j] = rng.choice(pool)
            return "".join(chars)
        if kind == "fullwidth":
            return _fullwidth(name)
        if kind == "city":
            for city in ZH_CITIES:
                if name.startswith(city):
                    return name[len(city) :]
            return stem
        # spaces: "华信 科技 有限公司"
        return " ".join(
            [stem[: len(stem) // 2], stem[len(stem) // 2 :], *([legal[0]] * (stem != name))]
        )


def _join_particles(words: list[str]) -> list[str]:
    joined: list[str] = []
    particle: list[str] = []
    for word in words:
        if word in ("de", "van", "den", "De"):
            particle.append(word)
            continue
        joined.append(" ".join([*particle, word]))
        particle = []
    return joined


def _typo(rng: random.Random, text: str) -> str:
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if not letters:
        return text
    i = rng.choice(letters)
    op = rng.random()
    if op < 0.3:  # substitution
        return text[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + text[i + 1 :]
    if op < 0.55:  # deletion
        return text[:i] + text[i + 1 :]
    if op < 0.8:  # insertion (a doubled letter or a neighbour)
        return text[:i] + rng.choice((text[i], rng.choice("aeiounrst"))) + text[i:]
    if i + 1 < len(text):  # transposition
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i]


def _fullwidth(text: str) -> str:
    return "".join(
        chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text
    )
