"""Static material for the demo network: the territory tree, places, and name parts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    """A city (a district for the municipalities) where demo organisations sit."""

    code: str
    name: str
    postal_code: str
    phone_area: str


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    cities: tuple[City, ...]


@dataclass(frozen=True)
class Country:
    code: str  # territory code
    iso: str  # ISO 3166 alpha-2
    name: str
    currency: str
    phone_prefix: str
    provinces: tuple[Province, ...]


@dataclass(frozen=True)
class Group:
    code: str
    name: str
    countries: tuple[Country, ...]


def _cities(*rows: tuple[str, str, str, str]) -> tuple[City, ...]:
    return tuple(City(*row) for row in rows)


# fmt: off
TERRITORY_TREE: tuple[Group, ...] = (
    Group("apac", "Asia Pacific", (
        Country("cn", "CN", "中国", "CNY", "+86", (
            Province("cn-gd", "广东省", _cities(
                ("cn-gd-guangzhou", "广州市", "510000", "20"),
                ("cn-gd-shenzhen", "深圳市", "518000", "755"),
                ("cn-gd-dongguan", "东莞市", "523000", "769"),
            )),
            Province("cn-zj", "浙江省", _cities(
                ("cn-zj-hangzhou", "杭州市", "310000", "571"),
                ("cn-zj-ningbo", "宁波市", "315000", "574"),
            )),
            Province("cn-js", "江苏省", _cities(
                ("cn-js-nanjing", "南京市", "210000", "25"),
                ("cn-js-suzhou", "苏州市", "215000", "512"),
            )),
            Province("cn-sh", "上海市", _cities(
                ("cn-sh-pudong", "浦东新区", "200120", "21"),
                ("cn-sh-xuhui", "徐汇区", "200030", "21"),
            )),
            Province("cn-bj", "北京市", _cities(
                ("cn-bj-chaoyang", "朝阳区", "100020", "10"),
                ("cn-bj-haidian", "海淀区", "100080", "10"),
            )),
            Province("cn-sc", "四川省", _cities(
                ("cn-sc-chengdu", "成都市", "610000", "28"),
                ("cn-sc-mianyang", "绵阳市", "621000", "816"),
            )),
            Province("cn-hb", "湖北省", _cities(
                ("cn-hb-wuhan", "武汉市", "430000", "27"),
            )),
            Province("cn-sd", "山东省", _cities(
                ("cn-sd-jinan", "济南市", "250000", "531"),
                ("cn-sd-qingdao", "青岛市", "266000", "532"),
            )),
        )),
    )),
    Group("north-america", "North America", (
        Country("us", "US", "United States", "USD", "+1", (
            Province("us-ca", "California", _cities(
                ("us-ca-san-francisco", "San Francisco", "94105", "415"),
                ("us-ca-los-angeles", "Los Angeles", "90012", "213"),
                ("us-ca-san-jose", "San Jose", "95113", "408"),
            )),
            Province("us-ny", "New York", _cities(
                ("us-ny-new-york", "New York", "10001", "212"),
                ("us-ny-buffalo", "Buffalo", "14202", "716"),
            )),
            Province("us-tx", "Texas", _cities(
                ("us-tx-austin", "Austin", "78701", "512"),
                ("us-tx-dallas", "Dallas", "75201", "214"),
                ("us-tx-houston", "Houston", "77002", "713"),
            )),
            Province("us-il", "Illinois", _cities(
                ("us-il-chicago", "Chicago", "60601", "312"),
            )),
            Province("us-wa", "Washington", _cities(
                ("us-wa-seattle", "Seattle", "98101", "206"),
            )),
        )),
        Country("ca", "CA", "Canada", "CAD", "+1", (
            Province("ca-on", "Ontario", _cities(
                ("ca-on-toronto", "Toronto", "M5H 2N2", "416"),
                ("ca-on-ottawa", "Ottawa", "K1P 1J1", "613"),
            )),
            Province("ca-bc", "British Columbia", _cities(
                ("ca-bc-vancouver", "Vancouver", "V6B 1A1", "604"),
            )),
        )),
    )),
    Group("europe", "Europe", (
        Country("de", "DE", "Deutschland", "EUR", "+49", (
            Province("de-by", "Bayern", _cities(
                ("de-by-muenchen", "München", "80331", "89"),
                ("de-by-nuernberg", "Nürnberg", "90402", "911"),
            )),
            Province("de-be", "Berlin", _cities(
                ("de-be-berlin", "Berlin", "10115", "30"),
            )),
            Province("de-nw", "Nordrhein-Westfalen", _cities(
                ("de-nw-koeln", "Köln", "50667", "221"),
                ("de-nw-duesseldorf", "Düsseldorf", "40213", "211"),
            )),
        )),
        Country("fr", "FR", "France", "EUR", "+33", (
            Province("fr-idf", "Île-de-France", _cities(
                ("fr-idf-paris", "Paris", "75002", "1"),
            )),
            Province("fr-ara", "Auvergne-Rhône-Alpes", _cities(
                ("fr-ara-lyon", "Lyon", "69002", "4"),
            )),
        )),
        Country("gb", "GB", "United Kingdom", "GBP", "+44", (
            Province("gb-eng", "England", _cities(
                ("gb-eng-london", "London", "EC2V 7HH", "20"),
                ("gb-eng-manchester", "Manchester", "M1 1AE", "161"),
            )),
            Province("gb-sct", "Scotland", _cities(
                ("gb-sct-edinburgh", "Edinburgh", "EH1 1YZ", "131"),
            )),
        )),
        Country("nl", "NL", "Nederland", "EUR", "+31", (
            Province("nl-nh", "Noord-Holland", _cities(
                ("nl-nh-amsterdam", "Amsterdam", "1012 AB", "20"),
            )),
            Province("nl-zh", "Zuid-Holland", _cities(
                ("nl-zh-rotterdam", "Rotterdam", "3011 AA", "10"),
            )),
        )),
    )),
)
# fmt: on

# Cities where one distributor holds the territory exclusively; everybody else located
# there shares the province instead (an exclusive territory admits no other holder).
EXCLUSIVE_CITIES: frozenset[str] = frozenset(
    {
        "cn-gd-guangzhou",
        "cn-zj-ningbo",
        "cn-js-nanjing",
        "cn-sc-chengdu",
        "cn-hb-wuhan",
        "cn-sd-qingdao",
        "us-tx-austin",
        "us-il-chicago",
        "ca-bc-vancouver",
        "de-by-muenchen",
        "fr-ara-lyon",
        "gb-eng-manchester",
        "nl-zh-rotterdam",
    }
)

# The regional coordinator looks after East China (华东).
COORDINATOR_TERRITORIES: tuple[str, ...] = ("cn-sh", "cn-zj", "cn-js")

# Administrative division codes (GB/T 2260), the 3rd-8th characters of a Chinese
# unified social credit code.
CN_DIVISION_CODES: dict[str, str] = {
    "cn-gd-guangzhou": "440100",
    "cn-gd-shenzhen": "440300",
    "cn-gd-dongguan": "441900",
    "cn-zj-hangzhou": "330100",
    "cn-zj-ningbo": "330200",
    "cn-js-nanjing": "320100",
    "cn-js-suzhou": "320500",
    "cn-sh-pudong": "310115",
    "cn-sh-xuhui": "310104",
    "cn-bj-chaoyang": "110105",
    "cn-bj-haidian": "110108",
    "cn-sc-chengdu": "510100",
    "cn-sc-mianyang": "510700",
    "cn-hb-wuhan": "420100",
    "cn-sd-jinan": "370100",
    "cn-sd-qingdao": "370200",
}

# Where generated organisations sit: (country code, weight).
COUNTRY_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("cn", 50),
    ("us", 16),
    ("ca", 5),
    ("de", 11),
    ("fr", 6),
    ("gb", 7),
    ("nl", 5),
)

# --- Chinese company names: <brand><trade><kind word>有限公司 -------------------
CN_BRANDS: tuple[tuple[str, str], ...] = (
    ("华南", "huanan"),
    ("华东", "huadong"),
    ("华北", "huabei"),
    ("西南", "xinan"),
    ("东方", "dongfang"),
    ("新星", "xinxing"),
    ("金桥", "jinqiao"),
    ("鼎盛", "dingsheng"),
    ("恒通", "hengtong"),
    ("博远", "boyuan"),
    ("联创", "lianchuang"),
    ("瑞丰", "ruifeng"),
    ("天成", "tiancheng"),
    ("宏图", "hongtu"),
    ("盛世", "shengshi"),
    ("海纳", "haina"),
    ("中科", "zhongke"),
    ("银河", "yinhe"),
    ("长城", "changcheng"),
    ("九州", "jiuzhou"),
    ("汇通", "huitong"),
    ("祥云", "xiangyun"),
    ("启明", "qiming"),
    ("凯达", "kaida"),
    ("嘉禾", "jiahe"),
    ("锦程", "jincheng"),
    ("永泰", "yongtai"),
    ("明德", "mingde"),
    ("佳信", "jiaxin"),
    ("正阳", "zhengyang"),
    ("同创", "tongchuang"),
    ("星河", "xinghe"),
    ("远航", "yuanhang"),
    ("华信", "huaxin"),
    ("立达", "lida"),
    ("顺达", "shunda"),
)
CN_TRADES: tuple[tuple[str, str], ...] = (
    ("电子", "dianzi"),
    ("科技", "keji"),
    ("数码", "shuma"),
    ("智能", "zhineng"),
    ("信息", "xinxi"),
    ("网络", "wangluo"),
    ("电器", "dianqi"),
    ("通信", "tongxin"),
)
CN_KIND_WORDS: dict[str, tuple[tuple[str, str], ...]] = {
    "distributor": (("分销", "fenxiao"), ("供应", "gongying")),
    "wholesaler": (("商贸", "shangmao"), ("批发", "pifa")),
    "retailer": (("零售", "lingshou"), ("商城", "shangcheng")),
    "reseller": (("销售", "xiaoshou"), ("经销", "jingxiao")),
    "var": (("系统集成", "jicheng"), ("解决方案", "solutions")),
    "logistics": (("物流", "wuliu"), ("供应链管理", "supplychain")),
    "ecommerce": (("电子商务", "ec"), ("网络科技", "online")),
    "supplier": (("元器件制造", "components"), ("精密制造", "precision")),
    "consultant": (("管理咨询", "consulting"), ("咨询服务", "advisory")),
    "customer": (("集团", "group"), ("实业", "industry")),
}

# --- Western company names: <brand> <kind word> <legal suffix> -----------------
WEST_BRANDS: tuple[str, ...] = (
    "Northwind",
    "Atlas",
    "Meridian",
    "Contoso",
    "Bluewater",
    "Summit",
    "Redwood",
    "Harbor",
    "Keystone",
    "Pioneer",
    "Silverline",
    "Granite",
    "Evergreen",
    "Lakeside",
    "Beacon",
    "Crescent",
    "Horizon",
    "Ironbridge",
    "Juniper",
    "Maple",
    "Oakridge",
    "Polaris",
    "Quantum",
    "Riverstone",
    "Sterling",
    "Tidewater",
    "Union",
    "Vanguard",
    "Westfield",
    "Zenith",
    "Falcon",
    "Aurora",
    "Cobalt",
    "Delta",
    "Ember",
    "Fjord",
    "Helix",
    "Nimbus",
    "Orion",
    "Alpenblick",
    "Rheinland",
    "Lumière",
    "Nordlicht",
    "Tulip",
    "Thistle",
    "Windmill",
)
WEST_KIND_WORDS: dict[str, tuple[str, ...]] = {
    "distributor": ("Distribution", "Distributors"),
    "wholesaler": ("Wholesale", "Trading"),
    "retailer": ("Retail", "Stores"),
    "reseller": ("Technologies", "IT Solutions"),
    "var": ("Systems", "Integration"),
    "logistics": ("Logistics", "Freight"),
    "ecommerce": ("Online", "Marketplace"),
    "supplier": ("Components", "Manufacturing"),
    "consultant": ("Consulting", "Advisory"),
    "customer": ("Health Group", "Holdings"),
}
LEGAL_SUFFIX: dict[str, tuple[str, ...]] = {
    "US": ("Inc.", "LLC", "Corp."),
    "CA": ("Inc.", "Ltd."),
    "DE": ("GmbH", "AG"),
    "FR": ("SAS", "SARL"),
    "GB": ("Ltd", "plc"),
    "NL": ("B.V.",),
}
TLD: dict[str, str] = {
    "CN": "cn",
    "US": "com",
    "CA": "ca",
    "DE": "de",
    "FR": "fr",
    "GB": "co.uk",
    "NL": "nl",
}

STREETS: dict[str, tuple[str, ...]] = {
    "CN": (
        "人民路{n}号",
        "中山路{n}号",
        "解放路{n}号",
        "建设大道{n}号",
        "科技园路{n}号",
        "滨江大道{n}号",
        "长江路{n}号",
        "世纪大道{n}号",
    ),
    "US": ("{n} Main Street", "{n} Market Street", "{n} Commerce Avenue", "{n} Oak Street"),
    "CA": ("{n} King Street West", "{n} Bay Street", "{n} Granville Street"),
    "DE": ("Hauptstraße {n}", "Bahnhofstraße {n}", "Industriestraße {n}"),
    "FR": ("{n} rue de la République", "{n} avenue Victor Hugo", "{n} boulevard Voltaire"),
    "GB": ("{n} High Street", "{n} Station Road", "{n} Victoria Street"),
    "NL": ("Keizersgracht {n}", "Stationsplein {n}", "Coolsingel {n}"),
}

# --- People --------------------------------------------------------------------
CN_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
CN_GIVEN_NAMES: tuple[str, ...] = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "晓东",
    "海燕",
    "建华",
    "志强",
    "文静",
)
WEST_FIRST_NAMES: tuple[str, ...] = (
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Sophie",
    "Lucas",
    "Mia",
    "Jonas",
    "Chloé",
    "Hugo",
    "Hannah",
    "Felix",
    "Grace",
    "Oliver",
    "Amelia",
    "Daan",
    "Sanne",
    "Ethan",
    "Ava",
    "Leon",
)
WEST_LAST_NAMES: tuple[str, ...] = (
    "Smith",
    "Johnson",
    "Müller",
    "Schmidt",
    "Martin",
    "Bernard",
    "Taylor",
    "Brown",
    "de Vries",
    "Jansen",
    "Wilson",
    "Clarke",
    "Fischer",
    "Dubois",
    "Walker",
    "Nguyen",
    "Becker",
    "Roux",
)
# (local part of the e-mail, English title, Chinese title)
JOB_TITLES: tuple[tuple[str, str, str], ...] = (
    ("gm", "Managing Director", "总经理"),
    ("sales", "Head of Sales", "销售总监"),
    ("purchasing", "Purchasing Manager", "采购经理"),
    ("channel", "Channel Manager", "渠道经理"),
    ("operations", "Operations Lead", "运营主管"),
    ("finance", "Finance Manager", "财务经理"),
)

TAGS: tuple[str, ...] = (
    "strategic",
    "key-account",
    "cross-border",
    "smb",
    "enterprise",
    "public-sector",
    "education",
    "healthcare",
    "新零售",
    "重点客户",
    "华东大区",
    "直播电商",
)
PRICING_TIERS: tuple[str, ...] = ("Registered", "Silver", "Gold", "Platinum")

# --- channel data: the vendor's catalogue, end customers, certifications ------------
# fmt: off
# (category key, English name, product line, (model name, list price in USD), ...)
CATALOGUE: tuple[tuple[str, str, str, tuple[tuple[str, int], ...]], ...] = (
    ("laptops", "Laptops", "Computing", (
        ("AirBook 13", 899), ("AirBook 15", 1099), ("ProBook 14", 1299), ("ProBook 16", 1599),
        ("WorkStation X1", 2399), ("EduBook 11", 399), ("GameBook 17", 1899),
        ("FlexBook 2-in-1", 999),
    )),
    ("desktops", "Desktops", "Computing", (
        ("Tower T3", 749), ("Tower T5", 1149), ("Mini M1", 549), ("All-in-One 24", 1199),
        ("Creator Studio", 2799), ("Office Compact", 499), ("ThinClient S", 329),
    )),
    ("monitors", "Monitors", "Displays", (
        ("View 24 FHD", 179), ("View 27 QHD", 329), ("View 32 4K", 549), ("Curve 34 UW", 699),
        ("Portable 15", 219), ("Pro Colour 27", 899), ("Touch 22", 289),
    )),
    ("networking", "Networking", "Infrastructure", (
        ("Router R600", 149), ("Mesh Wi-Fi 3-pack", 329), ("Switch 24G PoE", 489),
        ("Switch 48G", 729), ("Access Point AX", 219), ("Firewall F200", 1190),
        ("Router R1200", 399),
    )),
    ("storage", "Storage", "Infrastructure", (
        ("SSD 1 TB", 99), ("SSD 2 TB", 179), ("NAS 4-bay", 599), ("NAS 8-bay", 1290),
        ("Portable SSD 1 TB", 129), ("Backup Drive 4 TB", 139), ("Rack Storage 12-bay", 3490),
    )),
    ("smart-home", "Smart home", "Consumer", (
        ("Smart Speaker", 89), ("Smart Display 8", 149), ("Camera Indoor", 59),
        ("Camera Outdoor", 129), ("Smart Plug 4-pack", 49), ("Video Doorbell", 169),
        ("Home Hub", 119), ("Smart Lock", 229),
    )),
    ("accessories", "Accessories", "Consumer", (
        ("Wireless Mouse", 29), ("Mechanical Keyboard", 119), ("USB-C Dock", 189),
        ("Headset Pro", 159), ("Webcam 4K", 129), ("Laptop Sleeve", 39), ("Power Bank 20k", 59),
        ("Charger 100 W", 69),
    )),
    ("printers", "Printers", "Office", (
        ("Inkjet Home", 129), ("Laser Mono", 249), ("Laser Colour", 449), ("MFP Office", 799),
        ("Label Printer", 179), ("Photo Printer", 299), ("Wide Format A3", 1290),
    )),
)
# fmt: on
# (Chinese, English) industry words for end-customer names.
END_CUSTOMER_INDUSTRIES: tuple[tuple[str, str], ...] = (
    ("制造", "Manufacturing"),
    ("医疗", "Medical"),
    ("教育", "Education"),
    ("物流", "Logistics"),
    ("餐饮", "Hospitality"),
    ("建筑", "Construction"),
    ("地产", "Properties"),
    ("传媒", "Media"),
    ("律师事务所", "Legal"),
    ("会计", "Accounting"),
    ("零售", "Retail"),
    ("能源", "Energy"),
)
CERTIFICATIONS: tuple[str, ...] = (
    "Accord Certified Sales Associate",
    "Accord Certified Technical Specialist",
    "Accord Certified Solution Architect",
    "Accord Certified Service Professional",
)
WAREHOUSES: dict[str, tuple[str, ...]] = {
    "CN": ("中心仓", "门店仓", "保税仓"),
    "default": ("Main warehouse", "Store stock", "Regional DC"),
}
