from corpus import Article
from corpus.clean import clean_text, normalise_typography

ARTICLE = """Actus

Sam Altman de retour à la tête d’OpenAI

Sommaire

Aucun article trouvé

Abonne toi, la force tu trouveras

En remplissant ce formulaire, j’accepte de recevoir la newsletter d’EtudesTech.

Djaboo licorne   -20% sur tous nos plans - Recevez le code promo par email 😲 J'en profite

5 Mins de lecture
5/5 - (524 votes)

C’est l’affaire qui a secoué le monde de la Tech : Emmett\u00a0Shear devient PDG.

- Partager l'article :

Newsletter

Rejoignez notre newsletter pour des astuces chaque semaine

Laisser un commentaire

Votre adresse e-mail ne sera pas publiée.

Articles connexes
Comprendre le Logiciel CRM: Qu'est-ce que c'est ?
"""


def test_boilerplate_lines_are_removed() -> None:
    cleaned = clean_text(ARTICLE)
    for boilerplate in (
        "Abonne toi",
        "formulaire",
        "Sommaire",
        "Aucun article trouvé",
        "code promo",
        "Partager",
        "Newsletter",
        "newsletter",
        "Laisser un commentaire",
        "adresse e-mail",
        "Articles connexes",
        "CRM",
        "Mins de lecture",
        "votes",
        "Actus",
    ):
        assert boilerplate not in cleaned, boilerplate


def test_article_text_is_kept_with_plain_apostrophes_and_spaces() -> None:
    cleaned = clean_text(ARTICLE)
    assert "Sam Altman de retour à la tête d'OpenAI" in cleaned
    assert "C'est l'affaire qui a secoué le monde de la Tech : Emmett Shear devient PDG." in cleaned


def test_typography_is_normalised() -> None:
    assert (
        normalise_typography("l’entreprise\u202fa dit\u00a0« oui »") == "l'entreprise a dit « oui »"
    )


def test_seed_articles_lose_their_boilerplate(articles: list[Article]) -> None:
    texts = {a.doc_id: a.text for a in articles}
    assert "Laisser un commentaire" not in texts["bf0025d4d511106b"]
    assert texts["bf0025d4d511106b"].endswith("L'avenir de l'IA se joue peut-être chez OpenAI…")
    assert "Partager" not in texts["0e71460ec8a4328c"]
    assert "Newsletter" not in texts["9322674a4feffd24"]
    assert "Abonne toi" not in texts["e21a9bdea7febeae"]
    assert "SuiteDash" not in texts["b0a15b7c1d0bc7bc"]
    assert "code promo" not in texts["b0a15b7c1d0bc7bc"]
    assert "Emmett Shear" in texts["0e71460ec8a4328c"]
    assert all("’" not in text and "\u00a0" not in text for text in texts.values())
