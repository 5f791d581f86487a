"""Nederlandse zinnenbank."""

OPENERS = {
    "neg": (
        "",
        "Erg teleurgesteld.",
        "Helemaal niet tevreden.",
        "Wat een gedoe.",
        "Ik had beter verwacht.",
        "Sorry, maar dit was slecht.",
    ),
    "mixed": (
        "",
        "Gemengde gevoelens.",
        "Matige ervaring.",
        "Deels goed, deels minder.",
        "Niet slecht, niet geweldig.",
    ),
    "pos": (
        "",
        "Top winkel!",
        "Heel tevreden.",
        "Super.",
        "Prima service.",
        "Erg blij met deze bestelling.",
    ),
}
CLOSERS = {
    "neg": (
        "",
        "Hier bestel ik niet meer.",
        "Geen aanrader.",
        "Los dit alsjeblieft op.",
        "Twee sterren is nog gul.",
        "Erg frustrerend.",
    ),
    "mixed": (
        "",
        "Misschien bestel ik nog eens.",
        "Kan beter.",
        "Hopelijk gaat het de volgende keer beter.",
        "Oké voor de prijs.",
    ),
    "pos": (
        "",
        "Ik bestel zeker weer!",
        "Echt een aanrader.",
        "Bedankt!",
        "Ga zo door.",
        "Vijf sterren van mij.",
    ),
}
REVIEW = {
    "delivery": {
        "neg": (
            "Mijn pakket kwam {days} dagen later dan beloofd.",
            "De levering was te laat en niemand liet weten waarom.",
            "Ik ben voor niets thuisgebleven, het pakket kwam {days} dagen te laat.",
            "De beloofde bezorgdatum werd helemaal niet gehaald.",
            "Dagenlang stond de track & trace op onderweg, uiteindelijk kwam het te laat.",
            "Besteld als verjaardagscadeau en het kwam pas na het feest.",
        ),
        "mixed": (
            "Het product is prima, maar de levering duurde {days} dagen langer dan beloofd.",
            "Te laat bezorgd, maar het artikel zelf is goed.",
            "De bezorging was trager dan aangegeven, verder geen klachten.",
        ),
        "pos": (
            "Een dag later dan beloofd, maar het product maakt veel goed.",
            "Iets te laat bezorgd, al hield de klantenservice me goed op de hoogte.",
            "Kleine vertraging bij de bezorger, maar alles was netjes verpakt.",
        ),
    },
    "service": {
        "neg": (
            "Ik heb dagen gewacht op antwoord van de klantenservice.",
            "De klantenservice stuurde steeds hetzelfde standaardantwoord.",
            "Ik moest drie keer mailen voordat er iemand reageerde.",
            "De service was traag en totaal niet behulpzaam.",
            "Mijn ticket werd gesloten zonder dat mijn probleem was opgelost.",
        ),
        "mixed": (
            "De klantenservice was vriendelijk maar reageerde erg laat.",
            "Uiteindelijk hebben ze me geholpen, maar het duurde veel te lang.",
            "Het antwoord klopte, het wachten niet.",
        ),
        "pos": (
            "Het duurde even, maar de klantenservice heeft het netjes opgelost.",
            "Traag eerste antwoord, maar de medewerker was erg behulpzaam.",
            "Na wat wachten werd mijn vraag goed afgehandeld.",
        ),
    },
    "product": {
        "neg": (
            "De kwaliteit is slecht, het voelt goedkoop aan.",
            "De maat viel totaal verkeerd, ik moest het terugsturen.",
            "Het product lijkt in niets op de foto's.",
            "Na een week gebruik was het al kapot.",
            "De stof is dun en de naden lieten los.",
            "Het doet niet wat de omschrijving belooft.",
        ),
        "mixed": (
            "De maat valt klein, dus ik heb het geruild voor een grotere.",
            "Redelijk product, maar de kwaliteit mag beter voor deze prijs.",
            "De kleur wijkt af van de foto, maar het werkt.",
            "Retourneren ging makkelijk, het product was gewoon niks voor mij.",
        ),
        "pos": (
            "De eerste moest terug vanwege de maat, de nieuwe past perfect.",
            "Retourneren was eenvoudig en het geld stond snel terug.",
            "Goede kwaliteit, het ruilen ging soepel.",
        ),
    },
    "communication": {
        "neg": (
            "Ik kreeg nooit een orderbevestiging en wist niet of mijn bestelling gelukt was.",
            "Geen bevestigingsmail, dus ik had bijna twee keer besteld.",
            "De communicatie over mijn bestelling schoot tekort.",
        ),
        "mixed": (
            "De orderbevestiging kwam erg laat, de rest was prima.",
            "Ik twijfelde of mijn betaling gelukt was, maar het pakket kwam wel.",
        ),
        "pos": (
            "De bevestigingsmail was laat, maar de bezorging was snel.",
            "Klein foutje met de bevestiging, verder een prima bestelling.",
        ),
    },
    "praise": {
        "pos": (
            "De volgende dag al in huis, goed verpakt.",
            "Precies zoals beschreven en een eerlijke prijs.",
            "Makkelijk besteld en het pakket kwam op tijd.",
            "Prima kwaliteit voor de prijs.",
            "Snelle levering en duidelijke track & trace berichten.",
            "Mooi product, past perfect.",
            "De website is overzichtelijk en afrekenen ging snel.",
            "Nog voor de beloofde datum bezorgd, netjes.",
        ),
    },
}
TITLES = {
    "delivery": {
        "neg": ("Te late levering", "Pakket dagen te laat", "Niet op tijd bezorgd"),
        "mixed": ("Goed product, trage levering", "Laat maar oké"),
        "pos": ("Kleine vertraging, top product", "Het wachten waard"),
    },
    "service": {
        "neg": ("Slechte klantenservice", "Geen antwoord op mijn vragen"),
        "mixed": ("Trage service", "Vriendelijk maar traag"),
        "pos": ("Uiteindelijk goed geholpen", "Probleem opgelost"),
    },
    "product": {
        "neg": ("Slechte kwaliteit", "Verkeerde maat", "Niet zoals beschreven"),
        "mixed": ("Gemiddeld", "Redelijk product", "Valt klein"),
        "pos": ("Goed na ruilen", "Makkelijk retour"),
    },
    "communication": {
        "neg": ("Geen orderbevestiging", "In het ongewisse gelaten"),
        "mixed": ("Bevestiging kwam laat",),
        "pos": ("Klein foutje, prima bestelling",),
    },
    "praise": {"pos": ("Uitstekend", "Zeer tevreden", "Snel en goed", "Aanrader", "Fijne webshop")},
}
SURVEY = {
    "neg": (
        "Veel te traag.",
        "Niemand hield me op de hoogte.",
        "Erg teleurstellende ervaring.",
        "Ik had veel meer verwacht.",
        "Verbeter jullie levertijden.",
    ),
    "mixed": (
        "Het was oké.",
        "Gemiddeld, mag sneller.",
        "Prima, niets bijzonders.",
        "Er ging het een en ander mis.",
    ),
    "pos": (
        "Snel en makkelijk!",
        "Heel goede service.",
        "Alles ging soepel.",
        "Vriendelijk en snel.",
        "Fijne ervaring, dank jullie wel.",
    ),
}
TICKETS = {
    "delivery": (
        ("Waar blijft bestelling {order_id}?", "Pakket niet ontvangen", "Levering vertraagd"),
        (
            "Hallo, mijn bestelling {order_id} had gisteren binnen moeten zijn maar ik heb nog "
            "niets. Kunnen jullie nagaan waar het is?",
            "De track & trace is al dagen niet veranderd. Wanneer wordt mijn pakket bezorgd?",
            "De bezorger zegt dat hij langs is geweest, maar ik was de hele dag thuis. Wat nu?",
            "Er was bezorging vandaag beloofd en er kwam niets. Ik heb het deze week nodig.",
        ),
    ),
    "payment": (
        ("Wel betaald, geen bestelling", "Twee keer afgeschreven?", "Probleem met betaling"),
        (
            "Het geld is van mijn rekening afgeschreven maar ik heb geen orderbevestiging "
            "gekregen voor {order_id}. Is mijn bestelling gelukt?",
            "Mijn betaling mislukte maar mijn bank laat een afschrijving zien. Help alstublieft.",
            "Ik betaalde met iDEAL en kreeg daarna een foutmelding. Is mijn bestelling geplaatst?",
        ),
    ),
    "order": (
        ("Geen bevestigingsmail", "Bestelling wijzigen", "Status van mijn bestelling"),
        (
            "Ik heb geen bevestigingsmail ontvangen voor {order_id}. Is alles in orde?",
            "Kan ik het bezorgadres van bestelling {order_id} nog aanpassen?",
            "Ik wil graag nog een artikel toevoegen aan bestelling {order_id}, kan dat?",
        ),
    ),
    "returns": (
        ("Terugbetaling niet ontvangen", "Vraag over retour", "Waar blijft mijn geld?"),
        (
            "Ik heb mijn retour twee weken geleden opgestuurd en nog steeds geen geld terug "
            "voor {order_id}.",
            "Hoe stuur ik een artikel terug dat te klein is?",
            "Jullie magazijn heeft mijn retour ontvangen, wanneer krijg ik mijn geld terug?",
        ),
    ),
    "product information": (
        ("Vraag over een product", "Maatadvies", "Is dit geschikt?"),
        (
            "Valt deze jas klein? Normaal draag ik medium.",
            "Werkt deze oplader met mijn telefoon?",
            "Kan de dekbedovertrek op 60 graden gewassen worden?",
            "Wanneer is dit artikel weer op voorraad?",
        ),
    ),
    "invoice": (
        ("Factuur met btw-nummer", "Zakelijke factuur nodig"),
        (
            "Kunnen jullie een factuur voor {order_id} sturen met ons btw-nummer erop?",
            "Onze administratie heeft een correcte factuur nodig voor bestelling {order_id}.",
        ),
    ),
}
GREETINGS = ("Hoi {name},", "Beste {name},", "Hallo {name},")
SIGN_OFFS = (
    "Met vriendelijke groet, de klantenservice",
    "Groetjes, Team Klantenservice",
    "Bedankt voor je geduld!",
)
AGENT = {
    "delivery": (
        "Sorry voor de vertraging. Ik heb de vervoerder gevraagd het met spoed uit te zoeken.",
        "Ik heb navraag gedaan; je pakket wordt morgen bezorgd.",
        "Excuses, het pakket bleef in het depot liggen. We houden je op de hoogte.",
    ),
    "payment": (
        "Ik zie dat je betaling binnen is. Je bestelling wordt nu verwerkt.",
        "De afschrijving is een reservering en wordt binnen enkele dagen vrijgegeven door je bank.",
        "Sorry hiervoor, we hebben je bestelling handmatig bevestigd.",
    ),
    "order": (
        "Je bestelling is bevestigd, hierbij nogmaals de bevestiging.",
        "Ik heb je bestelling aangepast zoals gevraagd.",
        "Helaas is de bestelling al ingepakt, dus aanpassen lukt niet meer.",
    ),
    "returns": (
        "Je terugbetaling is goedgekeurd en staat binnen 3 dagen op je rekening.",
        "Je kunt het gratis terugsturen met het label in je account.",
        "Sorry voor het wachten, ik heb je terugbetaling vandaag doorgezet.",
    ),
    "product information": (
        "Ja, dit model valt klein; we raden een maat groter aan.",
        "Hij werkt met alle telefoons met USB-C.",
        "Het artikel is naar verwachting over twee weken weer op voorraad.",
    ),
    "invoice": (
        "In de bijlage vind je de factuur met jullie btw-nummer.",
        "Ik heb de zakelijke factuur naar je e-mailadres gestuurd.",
    ),
}
FOLLOWUPS = {
    "any": (
        "Bedankt, maar dit beantwoordt mijn vraag niet.",
        "Is er al nieuws?",
        "Nog steeds niets, help alstublieft.",
        "Dank voor het snelle antwoord!",
        "Oké, ik wacht nog een paar dagen.",
        "Kan iemand mij bellen?",
    ),
    "delivery": ("Het pakket is er nog steeds niet.", "De track & trace zegt nog steeds onderweg."),
    "returns": ("Weer een week verder en nog steeds geen geld terug.",),
}
CHAT_CUSTOMER = {
    "product_question": (
        (
            "Hoi, even een vraag over een product",
            "Hallo, is deze er ook in andere kleuren?",
            "Hoi! Is maat L op voorraad?",
            "Kan ik achteraf betalen?",
        ),
        (
            "En hoe lang duurt de levering?",
            "Oké, bedankt",
            "Top, en hoe zit het met retour?",
            "Zit er garantie op?",
            "Perfect, dank je!",
        ),
    ),
    "order_status": (
        (
            "Hoi, waar blijft mijn bestelling?",
            "Hallo, mijn pakket is nog niet gekomen",
            "Hoi, kan ik mijn bezorgadres wijzigen?",
        ),
        (
            "Het was voor gisteren beloofd.",
            "Oké, bedankt voor het nakijken",
            "Kunnen jullie de vervoerder bellen?",
            "Prima, doei",
        ),
    ),
}
CHAT_AGENT = {
    "product_question": (
        ("Hoi! Ik help je graag, om welk product gaat het?", "Hallo! Ik zoek het even voor je op."),
        (
            "De levering duurt 1-2 werkdagen.",
            "Je kunt het binnen 30 dagen gratis retourneren.",
            "Ja, 2 jaar garantie.",
            "Graag gedaan, fijne dag nog!",
        ),
    ),
    "order_status": (
        ("Hoi! Wat is je bestelnummer?", "Hallo, ik zoek je pakket even op."),
        (
            "Ik zie dat het bij de vervoerder is en morgen komt.",
            "Ik heb het bij de vervoerder aangekaart.",
            "Graag gedaan, sorry voor het ongemak.",
        ),
    ),
}

# Store visits, calls and social mentions (collect/simulator/offline.py).
STORE_NOTES = (
    "Klant wilde de stof zien en voelen voor het bestellen, prima geholpen",
    "Kwam advies vragen over de maat, tevreden vertrokken",
    "Wilde het product eerst in het echt zien, vond het mooi",
)
CALL_NOTES = {
    "product": (
        "Klant belde met een vraag over de afmetingen voor het bestellen",
        "Vroeg of het product nog op voorraad is en wanneer het geleverd kan worden",
    ),
    "delivery": (
        "Klant belt boos: pakket is te laat, de beloofde datum is voorbij",
        "Pakket nog steeds niet ontvangen, klant is erg teleurgesteld en wil weten waar het is",
        "Klant klaagt dat de bezorging weer vertraagd is, slechte ervaring",
    ),
}
MENTIONS = {
    "complaint": (
        "Nog steeds geen pakket ontvangen, echt slechte service #teleurgesteld",
        "Bestelling veel te laat en geen antwoord van de klantenservice, nooit meer",
        "Product kwam beschadigd aan, wat een gedoe om dit op te lossen",
    ),
    "praise": (
        "Super snel geleverd en het product is prachtig, echt een aanrader!",
        "Wat een fijne webshop, snel en vriendelijk geholpen",
        "Heel blij met mijn bestelling, top kwaliteit",
    ),
}
