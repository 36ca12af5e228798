"""Word lists for finding reported speech in German news: general knowledge of German,
not learned from any corpus.

- speech verbs with every finite form a news text uses (present, past, Konjunktiv,
  participle), including separable ones whose particle closes the clause ("teilte … mit");
- Konjunktiv I forms that mark indirect speech ("sei", "habe", "könne");
- role nouns ("Sprecher", "Ministerin") and institution nouns ("Ministerium", "Polizei"),
  matched on the last part of a compound ("Kreml-Sprecher", "Innenministerium");
- source nouns ("Angaben", "Bericht") for "nach Angaben der Polizei", "laut einem Bericht";
- words that are capitalised but never a speaker's name (determiners, sentence-initial
  adverbs, months), and common first names, for the gender of a pronoun's antecedent.

Which of the speech verbs may report speech without a clause ("+" below: "warnte vor",
"forderte") was checked against the cues of the SpkAtt-2023 training documents: verbs
whose reports were rarely annotated as speech there ("bestätigte den Vorfall",
"lehnte ab") report only with a clause. No word was taken from that data.

Shortcut: verb forms are generated from stems by the regular patterns of weak verbs;
strong and irregular verbs list their forms. A form that is also an ordinary word
("rief" is not, "meinen" is) stays in; the extractor only trusts it next to a comma,
colon or quote and a speaker.
"""

from __future__ import annotations

from dataclasses import dataclass


def word_list(text: str) -> list[str]:
    """The whitespace-separated words of a word-list string."""
    return text.split()


@dataclass(frozen=True)
class Verb:
    """A speech verb: its lemma, whether it reports without a clause ("warnte vor …")."""

    lemma: str
    particle: str | None = None  # "mit" for "teilte … mit"
    reports: bool = False  # takes an object or a preposition: reported speech


# Weak verbs by stem; "+" marks verbs that also report without a clause ("warnte vor …").
# Their forms are generated: sag -> sagt, sagte, sagten, sagen, sage, gesagt.
_WEAK = """
sag erklär beton behaupt bericht mein erzähl erwider antwort bestätig äußer warn+
forder+ kritisier+ ergänz versicher beteuer klag beklag vermut glaub befürcht fürcht
hoff bezweifel argumentier bemängel+ monier+ präzisier bekräftig dementier erläuter
schilder verkünd meld twitter verlang+ mahn+ appellier+ insistier mutmaß spekulier
prognostizier vernein bejah lob begrüß verurteil+ plädier+ erinner informier
protestier+ beschwer bekund kommentier resümier folger droh bilanzier zitier
wiederhol bezeichn+ bedauer signalisier unterstell verdeutlich bekenn verlautbar
schätz urteil rechtfertig attackier+ begründ
"""
# Separable weak verbs as particle:stem ("teilte … mit").
_WEAK_SEPARABLE = """
mit:teil an:kündig+ ein:räum+ fest:stell klar:stell klar:mach deutlich:mach hinzu:füg
ab:lehn an:merk zu:sicher auf:forder+ an:deut ein:schätz an:führ dar:leg zu:stimm
bekannt:mach aus:sag an:kreid+
"""
# Strong and irregular verbs: "lemma: finite forms / participle".
_STRONG = """
schreiben: schreibt schrieb schrieben schreibe schreiben / geschrieben
sprechen+: spricht sprach sprachen spreche sprechen / gesprochen
unterstreichen: unterstreicht unterstrich unterstrichen unterstreiche / unterstrichen
bestreiten: bestreitet bestritt bestritten bestreite / bestritten
verraten: verrät verriet verrieten / verraten
nennen+: nennt nannte nannten / genannt
empfehlen+: empfiehlt empfahl empfahlen empfehle / empfohlen
raten+: rät riet rieten / geraten
beschreiben+: beschreibt beschrieb beschrieben / beschrieben
verweisen+: verweist verwies verwiesen / verwiesen
gestehen: gesteht gestand gestanden gestehe / gestanden
versprechen: verspricht versprach versprachen verspreche / versprochen
finden: findet fand fanden / gefunden
rufen: ruft rief riefen / gerufen
wissen: weiß wusste wussten / gewusst
denken: denkt dachte dachten / gedacht
beschließen: beschließt beschloss beschlossen / beschlossen
entscheiden: entscheidet entschied entschieden / entschieden
schließen: schließt schloss schlossen / geschlossen
vergleichen+: vergleicht verglich verglichen / verglichen
"""
# Separable strong verbs: "particle:lemma: finite forms / participle".
_STRONG_SEPARABLE = """
hin:weisen: weist wies wiesen / hingewiesen
zurück:weisen: weist wies wiesen / zurückgewiesen
zu:geben: gibt gab gaben / zugegeben
an:geben: gibt gab gaben / angegeben
bekannt:geben: gibt gab gaben / bekanntgegeben
hervor:heben: hebt hob hoben / hervorgehoben
vor:werfen+: wirft warf warfen / vorgeworfen
vor:schlagen+: schlägt schlug schlugen / vorgeschlagen
fest:halten: hält hielt hielten / festgehalten
auf:rufen+: ruft rief riefen / aufgerufen
ein:wenden: wendet wandte wandten / eingewandt
ab:streiten: streitet stritt stritten / abgestritten
aus:schließen: schließt schloss schlossen / ausgeschlossen
aus:gehen: geht ging gingen / ausgegangen
ein:gestehen: gesteht gestand gestanden / eingestanden
zu:sagen: sagt sagte sagten / zugesagt
aus:sprechen: spricht sprach sprachen / ausgesprochen
an:kündigen+: kündigt kündigte kündigten / angekündigt
"""
_UNSTRESSED_PREFIXES = tuple(
    word_list(
        """
be ver er ent emp zer ge miss über unter wider
"""
    )
)


def _weak_forms(stem: str) -> tuple[list[str], str]:
    """Finite forms and participle of a weak verb stem: 'sag' -> (['sagt', …], 'gesagt')."""
    t = "et" if stem.endswith(("d", "t", "chn", "ffn", "dn", "gn")) else "t"
    n = "n" if stem.endswith(("er", "el")) else "en"
    finite = [stem + t, stem + t + "e", stem + t + "en", stem + n, stem + "e"]
    if stem.endswith("ier") or stem.startswith(_UNSTRESSED_PREFIXES):
        participle = stem + t
    else:
        participle = "ge" + stem + t
    return finite, participle


def _entries(table: str):
    """(particle, lemma or stem, reports?, forms, participle) per entry of a table."""
    for line in table.strip().splitlines() if "/" in table else table.split():
        head, _, rest = line.partition(": ") if "/" in line else (line, "", "")
        reports = head.endswith("+")
        head = head.rstrip("+")
        particle, _, base = head.rpartition(":")
        forms, _, participle = rest.partition(" / ")
        yield particle or None, base, reports, forms.split(), participle.strip()


def _build() -> tuple[dict[str, Verb], dict[str, Verb], dict[str, list[Verb]]]:
    """(finite form -> verb, participle or joined separable form -> verb,
    finite form -> separable verbs that need their particle)."""
    finite: dict[str, Verb] = {}
    joined: dict[str, Verb] = {}
    separable: dict[str, list[Verb]] = {}
    for table in (_WEAK, _WEAK_SEPARABLE, _STRONG, _STRONG_SEPARABLE):
        for particle, base, reports, forms, participle in _entries(table):
            if not forms:  # a weak stem
                forms, participle = _weak_forms(base)
                forms = forms if particle is None else forms[:3]
                base += "en"
                participle = (particle or "") + participle
            verb = Verb((particle or "") + base, particle, reports)
            for form in forms:
                if particle is None:
                    finite.setdefault(form, verb)
                else:
                    separable.setdefault(form, []).append(verb)
                    joined.setdefault(particle + form, verb)
            joined.setdefault(participle, verb)
    return finite, joined, separable


SPEECH_VERBS, JOINED_SPEECH_VERBS, SEPARABLE_SPEECH_VERBS = _build()

# Finite forms that are speech verbs only in some uses and common otherwise: they count
# as a cue only right beside a comma, colon or quote (never as reported speech).
WEAK_CUES = frozenset(
    word_list(
        """
meinen meine meint finden fand fanden findet rufen schließt schloss schlossen schließen
wissen weiß denkt dachte dachten glaube hoffe erinnern sprechen spreche schreiben
schreibe melden melde entschied entscheidet beschloss beschließt nennen sagen sage
"""
    )
)

# Konjunktiv I (and the Konjunktiv II forms that replace it) of verbs common in reported
# speech; a sentence with one of these after a statement continues it.
KONJUNKTIV = frozenset(
    word_list(
        """
sei seien sei's habe hab werde könne müsse dürfe solle wolle möge wisse gebe gäbe liege
stehe gehe komme sehe bleibe handle handele fehle brauche gelte heiße lasse halte trage
zeige bestehe betrage entstehe erwarte plane arbeite treffe nehme spiele lebe besitze
verfüge beabsichtige befinde mache führe stamme richte diene drohe entspreche verstoße
erhalte biete benötige kenne denke glaube wünsche hoffe finde suche bringe zahle lehne
sitze laufe falle rechne lege setze stelle schaffe sorge fordere wirke scheine verliere
gewinne unterstütze trete verlange hänge folge helfe passe verdiene reiche bedeute
schade nütze sinke steige wachse bemühe stimme leide lohne passiere existiere wäre wären
hätte hätten würde würden könnte könnten müsste müssten dürfte dürften sollte sollten
gäbe kämen käme
"""
    )
)
# Of these, the ones that mark indirect speech on their own (Konjunktiv II is common in
# ordinary conditional sentences, so it only counts right after a cue).
KONJUNKTIV_II = frozenset(
    word_list(
        """
wäre wären hätte hätten würde würden könnte könnten müsste müssten dürfte dürften sollte
sollten gäbe kämen käme
"""
    )
)
KONJUNKTIV_I = KONJUNKTIV - KONJUNKTIV_II

# Heads of role nouns, matched on the end of the last part of a compound:
# "Kreml-Sprecher", "Regierungssprecherin", "Außenminister".
ROLE_HEADS = tuple(
    word_list(
        """
sprecher sprecherin präsident präsidentin minister ministerin kanzler kanzlerin chef
chefin leiter leiterin direktor direktorin vorsitzende vorsitzender politiker
politikerin abgeordnete abgeordneter experte expertin analyst analystin anwalt anwältin
richter richterin botschafter botschafterin bürgermeister bürgermeisterin general
generalin kommandeur kommandant trainer trainerin spieler spielerin manager managerin
ökonom ökonomin forscher forscherin wissenschaftler wissenschaftlerin professor
professorin arzt ärztin sekretär sekretärin kommissar kommissarin gouverneur
gouverneurin senator senatorin premier premierministerin regierungschef staatschef könig
königin papst bischof pfarrer autor autorin sänger sängerin schauspieler schauspielerin
polizist polizistin ermittler ermittlerin staatsanwalt staatsanwältin beamte beamter
beamtin vertreter vertreterin gründer gründerin geschäftsführer geschäftsführerin
aktivist aktivistin zeuge zeugin anführer anführerin diplomat diplomatin oberst kapitän
kapitänin berater beraterin kandidat kandidatin funktionär funktionärin regisseur
regisseurin journalist journalistin historiker historikerin mediziner medizinerin
biologe biologin physiker physikerin chemiker chemikerin ingenieur ingenieurin pilot
pilotin astronaut astronautin athlet athletin sportler sportlerin fahrer fahrerin
meister meisterin weltmeister weltmeisterin bundestrainer verteidiger verteidigerin
kläger klägerin beklagte angeklagte angeklagter verdächtige verdächtiger täter täterin
opfer mutter vater sohn tochter bruder schwester ehefrau ehemann witwe sprecherin
unternehmer unternehmerin investor investorin banker chefökonom volkswirt volkswirtin
kritiker kritikerin befürworter befürworterin gegner gegnerin mitarbeiter mitarbeiterin
angestellte angestellter bewohner bewohnerin nachbar nachbarin besitzer besitzerin
eigentümer kanzlerkandidat spitzenkandidat landrat landrätin stadtrat stadträtin
pressesprecher pressesprecherin intendant intendantin moderator moderatorin rektor
rektorin dekan dekanin prälat kardinal imam rabbiner prinz prinzessin herzog fürst
fürstin vizepräsident vizepräsidentin vizekanzler staatssekretär staatssekretärin
landeshauptmann landeshauptfrau oppositionsführer fraktionschef parteichef führer
führerin gesandte gesandter beauftragte beauftragter vertraute vertrauter
soldat soldatin offizier major leutnant mädchen schüler schülerin
student studentin bürger bürgerin einwohner einwohnerin lehrer lehrerin mitglied
gewerkschafter gewerkschafterin demonstrant demonstrantin arbeiter arbeiterin landwirt
kollege kollegin freund freundin sprecherin vorstand vorständin
"""
    )
)

# Role nouns that count only as whole words: as endings they are names ("Neumann").
ROLE_WORDS = frozenset(word_list("mann frau junge bauer bäuerin"))

# Heads of institution nouns.
INSTITUTION_HEADS = tuple(
    word_list(
        """
ministerium regierung polizei behörde behörden amt ämter gericht gerichtshof verband
partei kommission agentur zeitung sender unternehmen konzern firma bank verwaltung
staatsanwaltschaft armee militär rat union organisation institut universität klinik
klinikum feuerwehr gewerkschaft stiftung kammer verein ministerien präsidium direktion
konferenz gremium ausschuss parlament senat bundestag landtag kabinett opposition
fraktion koalition bündnis vereinigung gesellschaft holding gruppe konsortium
nachrichtenagentur agenturen zentrale stelle stellen büro dienst dienste geheimdienst
justiz staatskanzlei kanzleramt kreml pentagon vatikan blatt magazin fernsehen radio
rundfunk zeitschrift nachrichtenseite ausgabe portal nachrichtenportal website webseite
dachverband aufsicht bundesamt
landesamt landeskriminalamt bundeskriminalamt kriminalpolizei wetterdienst krankenhaus spital
"""
    )
)

# Institutions named without a common noun.
INSTITUTION_NAMES = frozenset(
    word_list(
        """
dpa afp ap reuters interfax tass ria kna epd sid apa ddp nato uno un eu ezb iaea iaeo
who fifa uefa ioc dfb bgh bverfg bverwg bka bnd cia fbi nasa esa kreml pentagon vatikan
bundesregierung bundeswehr bundesanwaltschaft bundesverfassungsgericht
bundesverwaltungsgericht bundesgerichtshof greenpeace amnesty unicef unesco opec
"""
    )
)

PRONOUNS = {"er": "m", "sie": "f", "Er": "m", "Sie": "f"}

# Capitalised words that never name a speaker.
NOT_NAMES = frozenset(
    word_list(
        """
Der Die Das Den Dem Des Ein Eine Einer Eines Einem Einen Dies Diese Dieser Dieses Diesen
Jene Jener Er Sie Es Man Wir Ich Ihr Du Auch Aber Doch Und Oder Nun Jetzt Heute Gestern
Morgen Dann Damals Zudem Außerdem Allerdings Jedoch Zugleich Zuvor Danach Dabei Darüber
Deshalb Daher Trotzdem Dennoch Bereits Schon Noch Nur Erst Laut Nach Wie So Als Am Im In
Auf Bei Mit Von Vom Zum Zur Für Gegen Ohne Um Aus Seit Bis Während Wegen Trotz Unter
Über Vor Hinter Neben Zwischen Zu Alle Viele Einige Mehrere Beide Andere Kein Keine Sein
Solche Solcher Solches Manche Weitere Sämtliche
Seine Ihre Ihr Unser Unsere Mein Meine Montag Dienstag Mittwoch Donnerstag Freitag
Samstag Sonntag Januar Februar März April Mai Juni Juli August September Oktober
November Dezember Herr Frau Dr Prof Ja Nein Hier Dort Was Wer Wo Wann Warum Weshalb Denn
Dass Ob Wenn Weil Da Obwohl Zwar Sowohl Weder Insgesamt Mehr Experten Ermittler Anwohner
Zeugen Augenzeugen Kritiker Beobachter Analysten Forscher Wissenschaftler Behörden
Polizei Regierung Medien Berichten Angaben Angaben Worten Nicht Nichts Zwei Drei Vier
Fünf Sechs Sieben Acht Neun Zehn Elf Zwölf Dutzende Hunderte Tausende Zehntausende
Hunderttausende Millionen Milliarden Erster Zweiter Dritter Vierter Fünfter Sechster
Siebter Achter Neunter Zehnter Elfter Zwölfter
"""
    )
)

# Adverbs and particles that may stand between a speech verb and its speaker or clause.
FILLERS = frozenset(
    word_list(
        """
am an auf aus bei bereits damals dann dazu demnach dort erneut etwa gegenüber gestern
heute hier im in jedoch jetzt kürzlich laut mit morgen nach noch nun schon später vor
weiter weiterhin zudem zuletzt zufolge zuvor außerdem allerdings auch ebenfalls bisher
inzwischen nochmals abermals wiederholt ausdrücklich mehrfach offenbar
"""
    )
)

DETERMINERS = frozenset(
    word_list(
        """
der die das den dem des ein eine einer eines einem einen sein seine seiner seines seinem
seinen ihr ihre ihrer ihres ihrem ihren dieser diese dieses diesem diesen
"""
    )
)

# Heads of nouns that name a source document or report ("nach Angaben der Polizei",
# "laut einem Medienbericht", "Polizeiangaben zufolge").
SOURCE_HEADS = tuple(
    word_list(
        """
angaben worten informationen auskunft auskünfte darstellung einschätzung einschätzungen
ansicht meinung auffassung aussage aussagen schätzung schätzungen bericht berichten
berichte erkenntnissen erkenntnisse mitteilung meldung meldungen analyse analysen
studie untersuchung umfrage ankündigung veröffentlichung erklärung überzeugung
vermutung vermutungen sicht lesart zählung dokument dokumenten papier schreiben
prognose prognosen hochrechnung hochrechnungen recherchen ermittlungen aussendung
aussendungen stellungnahme kommuniqué communiqué
"""
    )
)

# Heads of nouns for a medium ("die Zeitung", "das Nachrichtenmagazin", "der Sender"): on
# their own they say which kind of outlet spoke, not which one, so they name no speaker.
MEDIA_HEADS = tuple(
    word_list(
        """
zeitung zeitungen blatt magazin sender zeitschrift portal nachrichtenseite website
webseite fernsehen rundfunk ausgabe agentur nachrichtenagentur medien
"""
    )
)

# Countries, capitals and cities that news writes for their governments ("Moskau warnte",
# "Frankreich kritisierte"): as a speaker they are institutions, never persons.
PLACE_NAMES = frozenset(
    word_list(
        """
Deutschland Österreich Schweiz Frankreich Italien Spanien Portugal Großbritannien
England Schottland Irland Niederlande Belgien Luxemburg Dänemark Schweden Norwegen
Finnland Island Polen Tschechien Slowakei Ungarn Slowenien Kroatien Serbien Bosnien
Montenegro Albanien Kosovo Nordmazedonien Mazedonien Griechenland Bulgarien Rumänien
Moldau Ukraine Belarus Weißrussland Russland Litauen Lettland Estland Türkei Zypern
Malta Georgien Armenien Aserbaidschan Kasachstan Usbekistan Iran Irak Syrien Libanon
Israel Jordanien Ägypten Libyen Tunesien Algerien Marokko Saudi-Arabien Jemen Katar
Kuwait Oman Afghanistan Pakistan Indien China Japan Südkorea Nordkorea Taiwan Vietnam
Thailand Indonesien Malaysia Singapur Philippinen Australien Neuseeland Kanada Mexiko
Brasilien Argentinien Chile Kolumbien Venezuela Kuba Peru Nigeria Äthiopien Kenia
Südafrika Sudan Somalia Mali Amerika Europa Afrika Asien
Berlin Wien Bern Paris London Madrid Rom Lissabon Dublin Amsterdam Brüssel Kopenhagen
Stockholm Oslo Helsinki Warschau Prag Bratislava Budapest Ljubljana Zagreb Belgrad
Sarajevo Podgorica Tirana Pristina Skopje Athen Sofia Bukarest Chisinau Kiew Minsk
Moskau Vilnius Riga Tallinn Ankara Nikosia Tiflis Eriwan Baku Teheran Bagdad Damaskus
Beirut Jerusalem Amman Kairo Tripolis Tunis Algier Rabat Riad Doha Kabul Islamabad
Neu-Delhi Peking Tokio Seoul Pjöngjang Taipeh Hanoi Bangkok Jakarta Canberra Ottawa
Washington Mexiko-Stadt Brasília Havanna Caracas Pretoria Nairobi Khartum
"""
    )
)

# Legal forms that end a company's name ("Emsland Stärke GmbH", "Apple Inc.").
COMPANY_SUFFIXES = frozenset(
    word_list(
        """
AG GmbH gGmbH KG KGaA OHG SE eG e.V. Inc Inc. Ltd Ltd. LLC Corp Corp. Co. plc PLC SA
S.A. NV N.V. SpA S.p.A. Holding
"""
    )
)

# Companies so often in the news that they appear without a legal form or a common noun.
COMPANY_NAMES = frozenset(
    word_list(
        """
Apple Google Alphabet Microsoft Amazon Facebook Meta Tesla Samsung Siemens Volkswagen
Daimler BASF Allianz Lufthansa Telekom Netflix Twitter Airbus Boeing Nokia Sony Intel
Huawei Gazprom Toyota Nvidia OpenAI
"""
    )
)

# Second parts of compounds that make their first part an organisation: "Apple-Chef",
# "VW-Konzern", "Siemens-Aktie".
ORGANISATION_COMPOUND_HEADS = frozenset(
    word_list(
        """
chef chefin konzern aktie aktien vorstand vorstandschef gründer gründerin
"""
    )
)


def is_source_word(word: str) -> bool:
    """'Angaben', 'Polizeiangaben', 'Kreml-Angaben', 'Medienberichten' -> True."""
    return word.rsplit("-", 1)[-1].lower().endswith(SOURCE_HEADS)
