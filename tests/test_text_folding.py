"""Folding keeps one character per character, so offsets survive it."""

from index.text_folding import fold, fold_char


def test_folding_a_text_folds_each_of_its_characters() -> None:
    every = "".join(chr(code) for code in range(0x10000) if not 0xD800 <= code < 0xE000)
    folded = fold(every)
    assert len(folded) == len(every)
    assert folded == "".join(fold_char(c) for c in every)
    assert fold(every) == folded  # the second time from the filled table


def test_accents_case_and_curly_apostrophes() -> None:
    assert fold("L’Élysée a DÉSIGNÉ ‘Ægir’ à Noël") == "l'elysee a designe 'ægir' a noel"
    assert fold("İstanbul, ŒUVRE") == "istanbul, œuvre"
