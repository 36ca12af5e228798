"""Named speakers and one statement of each, read off real 10kGNAD test articles by hand
(row of test.csv, the person's full name as the article gives it, the start of their
statement). 10kGNAD's texts have no quotation marks: direct quotes read like
"Da waren wir zu unsicher, sagte VfL-Geschäftsführer Klaus Allofs bei Sky."

Rows marked `later` are statements whose speaker is named earlier in the article and
referred to by a pronoun or a role at the statement ("…, sagte er", "betonte sie",
"so der Landeshauptmann").
"""

from __future__ import annotations

from typing import NamedTuple


class Gold(NamedTuple):
    row: int
    name: str
    statement: str  # the statement starts with (or contains) this
    later: bool = False  # the speaker is not named at the statement


GOLD = [
    Gold(30, "Sergej Lawrow", "Natürlich müssen Parlaments- und Präsidentenwahlen"),
    Gold(30, "Sergej Lawrow", "Moskaus Unterstützung für die syrische Armee"),
    Gold(81, "Rainer Kerstiens", "Daraus sei jedoch kein Trend abzuleiten"),
    Gold(81, "Bernd Jäckel", "Von Entspannung kann keine Rede sein"),
    Gold(81, "Bernd-Robert Schulz", "Bis jetzt haben wir keine Probleme"),
    Gold(96, "Harry Reid", "Es besteht nun kein Zweifel, dass der US-Kongress"),
    Gold(156, "Franz Beckenbauer", "Wann und wie, das entscheide ich"),
    Gold(183, "Marco Rubio", "Ich wäre nicht die richtige Wahl für ihn"),
    Gold(183, "Marco Rubio", "Ich will nicht, dass Hillary Clinton Präsidentin wird"),
    Gold(189, "Ibrahima Fall", "Die Entsendung einer Friedensmission ohne die Einwilligung"),
    Gold(240, "Christoph Hecht", "Das dauert noch sehr, sehr lang"),
    Gold(240, "Christoph Hecht", "Die meisten schweren Lasterunfälle auf Autobahnen"),
    Gold(267, "Ban Ki-moon", "Jedoch bin ich über die Fremdenfeindlichkeit", later=True),
    Gold(351, "Gustavo Dudamel", "Danach wusste ich, dass ich Dirigent werden wollte"),
    Gold(363, "Corinna Milborn", "Dass die Hofburg-Kandidaten ihren TV-Wahlkampf"),
    Gold(369, "Miriam Leiva", "Als ich zur Nuntiatur gehen wollte"),
    Gold(396, "John Carlin", "Dank der Bemühungen vieler Staatsanwälte und Agenten"),
    Gold(399, "Jörg Hennemann", "Ziel ist es, auch mit Hilfe der unterschiedlichen Flugpreise"),
    Gold(465, "Lawrence Davies", "Ziel sei es, dass spätestens 2018"),
    Gold(465, "Lawrence Davies", "Ausländische Autobauer sollten nun"),
    Gold(495, "Fernand Etgen", "Es sei ein starkes und ausgeglichenes Abkommen"),
    Gold(495, "Lasse Gustavsson", "Die Entscheidung der Minister sei unzulänglich"),
    Gold(510, "Daniel Mitrow", "Wir führen im Moment Verhandlungen mit der Türkei"),
    Gold(537, "Floréntino Perez", "Wir stehen voll hinter ihm"),
    Gold(538, "Klaus Allofs", "Da waren wir zu unsicher"),
    Gold(538, "Julian Draxler", "Es war auf jeden Fall mein erfolgreichstes Spiel", later=True),
    Gold(546, "Gabi Schiessling", "Es sei Zeit, neue, junge Leute an der Spitze"),
    Gold(552, "Christoph Strasser", "Die Hitze in den 24 Stunden war heftig"),
    Gold(582, "Werner Faymann", "Man dürfe nicht im Frühjahr vor halbfertigen Hotspots"),
    Gold(609, "Oskar Deutsch", "Aber auch allgemein würden sich Drohungen"),
    Gold(609, "Oskar Deutsch", "Die Rechten gehen derzeit eher auf Moslems los", later=True),
    Gold(645, "Chris Calaycay", "Wir haben gewusst, dass wir viele Veränderungen haben"),
    Gold(645, "Chris Calaycay", "Da müssen wir aufpassen"),
    Gold(693, "Pierre Moscovici", "Derzeit gebe es nur nationale Listen in der EU"),
    Gold(726, "Zeid Raad al-Hussein", "Ein kompletter Zusammenbruch von Recht und Gesetz"),
    Gold(750, "Walter Pudschedl", "Die Zuwanderung war sehr wichtig"),
    Gold(804, "Yanis Varoufakis", "Was Brüssel und die Troika heute wollen", later=True),
    Gold(816, "Isabelle Falque-Pierrotin", "Das Abkommen Privacy Shield sei ziemlich schwer"),
    Gold(843, "Jerome Boateng", "Gegen ein Spitzenteam kannst du so nicht spielen"),
    Gold(843, "Toni Kroos", "Wir müssen dahin kommen, dass wir diese absolute Geilheit"),
    Gold(859, "Werner Faymann", "Und zwar brauchen wir dann nicht nur in Spielfeld"),
    Gold(859, "Johanna Mikl-Leitner", "Wir müssen Grenzen setzen", later=True),
    Gold(859, "Johanna Mikl-Leitner", "Mir ist egal, wie jemand anderer", later=True),
    Gold(870, "Dmitri Peskow", "Aber in diesem Fall werden wir"),
    Gold(894, "Ivica Dacic", "Sein Land werde eine Protestnote an die US-Regierung"),
    Gold(927, "John Kerry", "Dies und anderes Gerät sei essenziell"),
    Gold(936, "Thomas de Maizière", "Der Fall in Rosenheim wird gerade aufgeklärt"),
    Gold(960, "Johanna Mikl-Leitner", "Der Dominoeffekt entlang der Balkanroute", later=True),
    Gold(981, "Wolfgang Katzian", "Die GPA werde dazu auf den möglichen Käufer zugehen"),
    Gold(1008, "Tomasz Siemoniak", "Das Arsenal aus Panzern und Panzerhaubitzen"),
]
