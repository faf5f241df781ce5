"""tools/build_phenotypes.py: the phenotype list the claims tagger reads, built from the HPO."""
from pathlib import Path

import build_phenotypes

from analysis.claims import load_lexicons

OBO = """\
format-version: 1.2
data-version: hp/releases/2025-01-16

[Term]
id: HP:0000001
name: All

[Term]
id: HP:0000118
name: Phenotypic abnormality
is_a: HP:0000001

[Term]
id: HP:0000458
name: Anosmia
synonym: "Loss of smell" EXACT layperson []
synonym: "Inability to perceive any odour at all" EXACT []
synonym: "AN" EXACT abbreviation []
synonym: "No smell sense" RELATED []
is_a: HP:0000118

[Term]
id: HP:0012115
name: Hepatitis
synonym: "Liver inflammation" EXACT layperson []
is_a: HP:0000458

[Term]
id: HP:0002900
name: Hypokalemia
synonym: "Potassium below 3.5 mmol/L" EXACT []
is_a: HP:0000118

[Term]
id: HP:0000005
name: Mode of inheritance
is_a: HP:0000001

[Term]
id: HP:0000006
name: Autosomal dominant inheritance
is_a: HP:0000005

[Term]
id: HP:0009999
name: Old term
is_obsolete: true
is_a: HP:0000118

[Typedef]
id: part_of
name: part of
"""


def test_the_list_keeps_names_and_exact_synonyms_of_phenotypic_abnormalities():
    release, terms = build_phenotypes.parse_obo(OBO)
    assert release == "2025-01-16" and "HP:0009999" not in terms
    # below HP:0000118 at any depth; not the root, not other branches; no abbreviations, related synonyms,
    # numbers or phrases of more than three words
    assert list(build_phenotypes.phenotype_lines(terms)) == [
        "anosmia", "hepatitis", "hypokalemia", "liver inflammation = hepatitis", "loss of smell = anosmia"]


def test_the_shipped_list_is_the_builders_output_format():
    shipped = (Path(build_phenotypes.__file__).parents[1] / "analysis" / "data" / "lexicons" / "phenotypes.txt")
    text = shipped.read_text(encoding="utf-8")
    assert text.startswith(build_phenotypes.HEADER.format(release="2025-01-16"))
    entries = [line for line in text[len(build_phenotypes.HEADER.format(release="2025-01-16")):].splitlines()
               if line]
    assert entries == sorted(entries) and len(entries) > 10_000
    phenotypes = {e.term for e in load_lexicons().phenotype}
    assert {"anosmia", "hepatitis", "nausea"} <= phenotypes
