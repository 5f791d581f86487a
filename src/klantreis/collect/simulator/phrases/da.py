"""Dansk frasebank."""

OPENERS = {
    "neg": (
        "",
        "Meget skuffet.",
        "Slet ikke tilfreds.",
        "Sikke et bøvl.",
        "Jeg havde forventet bedre.",
        "Beklager, men det var dårligt.",
    ),
    "mixed": (
        "",
        "Blandede følelser.",
        "Middelmådig oplevelse.",
        "Noget godt, noget skidt.",
        "Ikke dårligt, ikke fantastisk.",
    ),
    "pos": (
        "",
        "Super butik!",
        "Meget tilfreds.",
        "Fremragende.",
        "God service.",
        "Rigtig glad for denne ordre.",
    ),
}
CLOSERS = {
    "neg": (
        "",
        "Jeg handler ikke her igen.",
        "Kan ikke anbefales.",
        "Få det nu løst.",
        "To stjerner er rigeligt.",
        "Meget frustrerende.",
    ),
    "mixed": (
        "",
        "Måske handler jeg her igen.",
        "Der er plads til forbedring.",
        "Forhåbentlig bedre næste gang.",
        "Okay til prisen.",
    ),
    "pos": (
        "",
        "Jeg handler helt sikkert igen!",
        "Kan varmt anbefales.",
        "Tak!",
        "Bliv ved med det.",
        "Fem stjerner herfra.",
    ),
}
REVIEW = {
    "delivery": {
        "neg": (
            "Min pakke kom {days} dage senere end lovet.",
            "Leveringen var forsinket, og ingen fortalte hvorfor.",
            "Jeg blev hjemme for ingenting, pakken kom {days} dage for sent.",
            "Den lovede leveringsdato blev slet ikke overholdt.",
            "Sporingen stod på undervejs i flere dage, og så kom den for sent.",
            "Bestilt som fødselsdagsgave, og den kom først efter festen.",
        ),
        "mixed": (
            "Produktet er fint, men leveringen tog {days} dage længere end lovet.",
            "Kom for sent, men selve varen er god.",
            "Leveringen var langsommere end oplyst, ellers ingen klager.",
        ),
        "pos": (
            "Den kom en dag for sent, men produktet opvejer det.",
            "Lidt forsinket, men kundeservice holdt mig godt orienteret.",
            "En lille forsinkelse hos fragtfirmaet, men alt var pænt pakket.",
        ),
    },
    "service": {
        "neg": (
            "Jeg ventede i dagevis på svar fra kundeservice.",
            "Kundeservice sendte det samme standardsvar igen og igen.",
            "Jeg måtte skrive tre gange, før nogen svarede.",
            "Kundeservice var langsom og slet ikke hjælpsom.",
            "Min sag blev lukket, uden at problemet var løst.",
        ),
        "mixed": (
            "Kundeservice var venlig, men svarede meget sent.",
            "Til sidst fik jeg hjælp, men det tog alt for lang tid.",
            "Svaret var korrekt, ventetiden var ikke.",
        ),
        "pos": (
            "Det tog lidt tid, men kundeservice løste det ordentligt.",
            "Langsomt første svar, men medarbejderen var meget hjælpsom.",
            "Efter lidt ventetid blev min sag håndteret godt.",
        ),
    },
    "product": {
        "neg": (
            "Kvaliteten er dårlig, den føles billig.",
            "Størrelsen var helt forkert, jeg måtte sende den retur.",
            "Produktet ligner slet ikke billederne.",
            "Den gik i stykker efter en uge.",
            "Stoffet er tyndt, og sømmene gik op.",
            "Den gør ikke, hvad beskrivelsen lover.",
        ),
        "mixed": (
            "Størrelsen er lille, så jeg byttede til en større.",
            "Okay produkt, men kvaliteten kunne være bedre til prisen.",
            "Farven er anderledes end på billedet, men den virker.",
            "Returneringen var nem, produktet var bare ikke noget for mig.",
        ),
        "pos": (
            "Den første måtte retur pga. størrelsen, den nye passer perfekt.",
            "Returnering var nem, og pengene kom hurtigt tilbage.",
            "God kvalitet, byttet gik glat.",
        ),
    },
    "communication": {
        "neg": (
            "Jeg fik aldrig en ordrebekræftelse og vidste ikke, om ordren gik igennem.",
            "Ingen bekræftelsesmail, så jeg bestilte næsten to gange.",
            "Kommunikationen om min ordre var mangelfuld.",
        ),
        "mixed": (
            "Ordrebekræftelsen kom meget sent, resten var fint.",
            "Jeg var usikker på, om betalingen gik igennem, men pakken kom.",
        ),
        "pos": (
            "Bekræftelsesmailen kom sent, men leveringen var hurtig.",
            "En lille fejl med bekræftelsen, ellers en god ordre.",
        ),
    },
    "praise": {
        "pos": (
            "Leveret dagen efter og godt pakket.",
            "Præcis som beskrevet og en fair pris.",
            "Nem bestilling, og pakken kom til tiden.",
            "God kvalitet til prisen.",
            "Hurtig levering og tydelige sporingsbeskeder.",
            "Flot produkt, passer perfekt.",
            "Hjemmesiden er overskuelig, og betalingen gik hurtigt.",
            "Kom før den lovede dato, meget fint.",
        ),
    },
}
TITLES = {
    "delivery": {
        "neg": ("Forsinket levering", "Pakken kom dage for sent", "Ikke leveret til tiden"),
        "mixed": ("Godt produkt, langsom levering", "Sent men okay"),
        "pos": ("Lille forsinkelse, super produkt", "Værd at vente på"),
    },
    "service": {
        "neg": ("Elendig kundeservice", "Intet svar på mine spørgsmål"),
        "mixed": ("Langsom service", "Venlig men langsom"),
        "pos": ("God hjælp til sidst", "Problem løst"),
    },
    "product": {
        "neg": ("Dårlig kvalitet", "Forkert størrelse", "Ikke som beskrevet"),
        "mixed": ("Middel", "Okay produkt", "Lille i størrelsen"),
        "pos": ("Godt efter ombytning", "Nem returnering"),
    },
    "communication": {
        "neg": ("Ingen ordrebekræftelse", "Holdt hen i uvished"),
        "mixed": ("Bekræftelsen kom sent",),
        "pos": ("Lille fejl, god ordre",),
    },
    "praise": {
        "pos": (
            "Fremragende",
            "Meget tilfreds",
            "Hurtigt og godt",
            "Kan anbefales",
            "Dejlig webshop",
        )
    },
}
SURVEY = {
    "neg": (
        "Alt for langsomt.",
        "Ingen holdt mig orienteret.",
        "Meget skuffende oplevelse.",
        "Jeg havde forventet meget mere.",
        "Få styr på leveringstiderne.",
    ),
    "mixed": (
        "Det var okay.",
        "Middel, kunne være hurtigere.",
        "Fint, intet særligt.",
        "Der gik et par ting galt.",
    ),
    "pos": (
        "Hurtigt og nemt!",
        "Rigtig god service.",
        "Alt gik glat.",
        "Venligt og hurtigt.",
        "Dejlig oplevelse, tusind tak.",
    ),
}
TICKETS = {
    "delivery": (
        ("Hvor er min ordre {order_id}?", "Pakke ikke modtaget", "Forsinket levering"),
        (
            "Hej, min ordre {order_id} skulle være kommet i går, men jeg har intet fået. "
            "Kan I undersøge, hvor den er?",
            "Sporingen har ikke ændret sig i flere dage. Hvornår bliver min pakke leveret?",
            "Budet siger, de har forsøgt at levere, men jeg var hjemme hele dagen. Hvad nu?",
            "Jeg fik lovet levering i dag, og intet kom. Jeg skal bruge den i denne uge.",
        ),
    ),
    "payment": (
        ("Betalt men ingen ordre", "Trukket to gange?", "Problem med betaling"),
        (
            "Pengene er trukket fra min konto, men jeg har ikke fået en ordrebekræftelse "
            "for {order_id}. Gik min ordre igennem?",
            "Min betaling fejlede, men banken viser en trækning. Hjælp venligst.",
            "Jeg betalte med MobilePay og fik en fejlside bagefter. Er min ordre afgivet?",
        ),
    ),
    "order": (
        ("Ingen bekræftelsesmail", "Ændre min ordre", "Status på ordre"),
        (
            "Jeg har ikke modtaget en bekræftelsesmail for {order_id}. Er alt i orden?",
            "Kan jeg stadig ændre leveringsadressen på ordre {order_id}?",
            "Jeg vil gerne tilføje en vare til ordre {order_id}, kan det lade sig gøre?",
        ),
    ),
    "returns": (
        ("Refusion ikke modtaget", "Spørgsmål om retur", "Hvor bliver mine penge af?"),
        (
            "Jeg sendte min retur for to uger siden og har stadig ikke fået pengene for "
            "{order_id}.",
            "Hvordan returnerer jeg en vare, der er for lille?",
            "Jeres lager har modtaget min retur, hvornår får jeg pengene tilbage?",
        ),
    ),
    "product information": (
        ("Spørgsmål om et produkt", "Hjælp til størrelse", "Passer den til min?"),
        (
            "Er denne jakke lille i størrelsen? Jeg bruger normalt medium.",
            "Virker denne oplader med min telefon?",
            "Kan dynebetrækket vaskes ved 60 grader?",
            "Hvornår er varen på lager igen?",
        ),
    ),
    "invoice": (
        ("Faktura med CVR-nummer", "Firmafaktura ønskes"),
        (
            "Kan I sende en faktura for {order_id} med vores CVR-nummer på?",
            "Vores bogholderi skal bruge en korrekt faktura for ordre {order_id}.",
        ),
    ),
}
GREETINGS = ("Hej {name},", "Kære {name},", "Hej {name}!")
SIGN_OFFS = (
    "Venlig hilsen kundeservice",
    "Mange hilsner, Kundeservice",
    "Tak for din tålmodighed!",
)
AGENT = {
    "delivery": (
        "Beklager forsinkelsen. Jeg har bedt fragtfirmaet undersøge det hurtigst muligt.",
        "Jeg har talt med fragtfirmaet; din pakke bliver leveret i morgen.",
        "Undskyld, pakken blev hængende på terminalen. Vi holder dig orienteret.",
    ),
    "payment": (
        "Jeg kan se, at din betaling er modtaget. Din ordre behandles nu.",
        "Trækningen er en reservation, som banken frigiver inden for få dage.",
        "Beklager, vi har bekræftet din ordre manuelt.",
    ),
    "order": (
        "Din ordre er bekræftet, her er bekræftelsen igen.",
        "Jeg har ændret din ordre som ønsket.",
        "Desværre er ordren allerede pakket, så vi kan ikke ændre den.",
    ),
    "returns": (
        "Din refusion er godkendt og er på din konto inden for 3 dage.",
        "Du kan returnere gratis med labelen på din konto.",
        "Beklager ventetiden, jeg har sendt din refusion i dag.",
    ),
    "product information": (
        "Ja, modellen er lille i størrelsen; vi anbefaler en størrelse op.",
        "Den virker med alle telefoner med USB-C.",
        "Varen forventes på lager igen om to uger.",
    ),
    "invoice": (
        "Vedhæftet er fakturaen med jeres CVR-nummer.",
        "Jeg har sendt firmafakturaen til din e-mail.",
    ),
}
FOLLOWUPS = {
    "any": (
        "Tak, men det svarer ikke på mit spørgsmål.",
        "Er der nyt?",
        "Stadig intet, hjælp venligst.",
        "Tak for det hurtige svar!",
        "Okay, jeg venter et par dage mere.",
        "Kan nogen ringe til mig?",
    ),
    "delivery": ("Pakken er stadig ikke kommet.", "Sporingen siger stadig undervejs."),
    "returns": ("Der er gået en uge mere, og stadig ingen penge.",),
}
CHAT_CUSTOMER = {
    "product_question": (
        (
            "Hej, et hurtigt spørgsmål om et produkt",
            "Hej, findes den i andre farver?",
            "Hej! Er str. L på lager?",
            "Kan jeg betale med faktura?",
        ),
        (
            "Og hvor lang tid tager levering?",
            "Okay, tak",
            "Super, og hvad med returnering?",
            "Er der garanti?",
            "Perfekt, tak!",
        ),
    ),
    "order_status": (
        (
            "Hej, hvor er min ordre?",
            "Hej, min pakke er ikke kommet endnu",
            "Hej, kan jeg ændre min leveringsadresse?",
        ),
        (
            "Den var lovet til i går.",
            "Okay, tak fordi du kiggede",
            "Kan I ringe til fragtfirmaet?",
            "Fint, hej hej",
        ),
    ),
}
CHAT_AGENT = {
    "product_question": (
        (
            "Hej! Jeg hjælper gerne, hvilket produkt drejer det sig om?",
            "Hej! Lad mig lige tjekke det.",
        ),
        (
            "Levering tager 1-2 hverdage.",
            "Du kan returnere gratis inden for 30 dage.",
            "Ja, 2 års garanti.",
            "Selv tak, hav en god dag!",
        ),
    ),
    "order_status": (
        ("Hej! Må jeg få dit ordrenummer?", "Hej, jeg slår lige din pakke op."),
        (
            "Jeg kan se, den er hos fragtfirmaet og kommer i morgen.",
            "Jeg har rejst sagen hos fragtfirmaet.",
            "Selv tak, beklager ulejligheden.",
        ),
    ),
}

# Store visits, calls and social mentions (collect/simulator/offline.py).
STORE_NOTES = (
    "Kunden ville se og mærke stoffet før bestilling, fik god hjælp",
    "Kom for at få råd om størrelsen, gik glad derfra",
    "Ville se produktet i virkeligheden først, kunne lide det",
)
CALL_NOTES = {
    "product": (
        "Kunden ringede med et spørgsmål om målene før bestilling",
        "Spurgte om produktet er på lager og hvornår det kan leveres",
    ),
    "delivery": (
        "Kunden ringer vred: pakken er forsinket, den lovede dato er overskredet",
        "Pakken er stadig ikke modtaget, kunden er meget skuffet og vil vide hvor den er",
        "Kunden klager over at leveringen igen er forsinket, dårlig oplevelse",
    ),
}
MENTIONS = {
    "complaint": (
        "Stadig ingen pakke, virkelig elendig service #skuffet",
        "Ordren alt for sent og intet svar fra kundeservice, aldrig igen",
        "Produktet kom beskadiget, sikke et bøvl at få det løst",
    ),
    "praise": (
        "Super hurtig levering og produktet er smukt, kan varmt anbefales!",
        "Sikke en dejlig webshop, hurtig og venlig hjælp",
        "Meget glad for min ordre, god kvalitet",
    ),
}
