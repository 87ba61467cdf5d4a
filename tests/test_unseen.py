"""Kinds of question first seen in new users' sets (round 4 and the open halves before it),
answered by the stage that reads them — as a user sees the answer."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_which_figure_is_lowest_ranks_the_set_and_names_it_first(ask):
    ans = ask("which investment stat looks worst for us in terms of UK share?")
    first = ans.text.splitlines()[0]
    assert first.startswith("The lowest") and "FDI capex" in first and "**3%**" in first, ans.text
    assert "1. FDI capex" in ans.text and "**20%**" in ans.text
    assert "**30%**" not in ask("which business figure has the highest UK share?").text  # not a UK share


def test_a_largest_single_deal_is_declined_as_a_breakdown(ask):
    ans = ask("largest single deal in the 108 investments — size?")
    assert not ans.answered and "broken down" in ans.text, ans.text


def test_an_average_comes_with_what_it_averages(ask):
    ans = ask("what's the mean fundraising investment?")
    assert "**£1.2m**" in ans.text and "**£134m**" in ans.text and "**108**" in ans.text, ans.text
    assert "£134m" in ask("headline investment picture please").text


def test_which_of_those_are_also_in_another_list(ask):
    ans = ask("which universities are listed for high performing research?",
              "which of those are also in the QS top 25?")
    kept = [line[2:] for line in ans.text.splitlines() if line.startswith("- ")]
    assert kept == ["Birmingham", "Leicester", "Nottingham", "Warwick"], ans.text
    assert len(ans.citations) == 2  # the list, and where the QS ranking says it


def test_the_data_sources_are_listed_when_nothing_is_named(ask):
    for q in ("What sources does the report draw its data from?", "list the sources used"):
        ans = ask(q)
        assert ans.answered and "Wavteq" in ans.text and "Beauhurst" in ans.text, (q, ans.text)


def test_source_countries_are_countries_not_data_sources(ask):
    ans = ask("foreign-owned % of cluster?", "top source countries for that?")
    assert "USA, Germany, Sweden" in ans.text and "Wavteq" not in ans.text, ans.text


def test_a_pay_gap_in_pounds_is_calculated(ask):
    ans = ask("what's the pay gap in actual pounds between the cluster average and the national average?")
    assert "**£12,763**" in ans.text and "£46,894 − £34,131" in ans.text, ans.text
    assert "**27.2%**" in ask("what's the pay gap?").text  # stated in per cent: quoted


def test_a_list_question_after_a_figure_keeps_its_own_operation(ask):
    ans = ask("How many foreign-owned companies in the cluster?", "which countries own the most of them?")
    assert "USA, Germany, Sweden, France, Australia" in ans.text, ans.text


def test_a_section_named_in_passing_gets_its_overview(ask):
    ans = ask("hi, looking at the investment side of things")
    assert ans.kind == "overview" and "$544.21m" in ans.text, ans.text


def test_an_overview_of_a_section_of_words_quotes_it_in_order(ask):
    ans = ask("give me an overview of the roundtable")
    assert ans.kind == "overview" and ans.text.index("key frustration") < ans.text.index("Strategy")
    assert "Recommendations for UK policy:" in ans.text and "Regulation" in ans.text, ans.text


def test_a_number_credited_to_the_wrong_source_is_refuted(ask):
    ans = ask("Data City estimates about 32,000 health and life sciences jobs in the Midlands — "
              "that's right, isn't it?")
    assert ans.text.startswith("No — ") and "18,177" in ans.text and "OLS" in ans.text, ans.text
    assert ask("OLS data puts Midlands jobs at 32,000, right?").text.startswith("Yes — ")


def test_a_false_premise_is_corrected_before_an_overview(ask):
    ans = ask("Since the cluster shrank since 2013, what does the report blame the decline on?")
    assert ans.text.startswith("No — ") and "**62%**" in ans.text, ans.text


def test_a_comparison_built_on_a_false_premise_opens_with_no(ask):
    ans = ask("given FDI capex was way bigger than DDI capex in the midlands 2017-21, "
              "what attracted the foreign investors")
    assert ans.text.startswith("No — FDI is smaller than DDI") and "$544.21m" in ans.text, ans.text
    ans = ask("why is the share of foreign owned businesses in the cluster lower than the national average?")
    assert ans.text.startswith("No — ") and "**30%**" in ans.text and "**24%**" in ans.text, ans.text


@pytest.mark.parametrize("question,said", [
    ("what counts as 'retained' for the grad retention metric?", "Health & Social Work Activities"),
    ("What counts as 'high research ranking' for the 10 unis?", "REF 2021 GPA >3.0"),
    ("what's an HGC?", "20%+ company growth"),
])
def test_a_measure_is_defined_by_the_footnote_that_says_what_it_counts(ask, question, said):
    ans = ask(question)
    assert ans.kind == "define" and said in ans.text, ans.text


def test_an_abbreviation_the_snapshot_never_uses_is_declined(ask):
    ans = ask("what does ZZQ mean?")
    assert not ans.answered and "ZZQ" in ans.text and "£" not in ans.text, ans.text


def test_a_question_in_another_language_is_answered_from_its_english_reading(ask):
    ans = ask("¿Cuántos proyectos de inversión extranjera directa (IED) hubo entre 2017 y 2021?")
    assert ans.answered and "**27**" in ans.text, ans.text
    assert any("from Spanish" in n and "foreign direct investment" in n for n in ans.notices)
    ans = ask("Combien d'entreprises compte le cluster au total ?")
    assert "**222**" in ans.text and any("from French" in n for n in ans.notices), ans.text
    ans = ask("¿Cuántas patentes registraron las empresas del clúster?")  # not in the snapshot
    assert not ans.answered and "patents" in ans.text, ans.text


def test_a_count_in_the_base_year_of_a_growth_rate_is_backed_out(ask):
    ans = ask("how many businesses were there in 2013?")
    assert ans.kind == "derived" and "**137**" in ans.text and "222 ÷ (1 + 62%)" in ans.text, ans.text
    assert not ask("how many businesses were there in 2015?").answered


def test_a_long_story_before_the_question_is_set_aside(ask):
    ans = ask("so i was at this event in leicester last week and some professor was banging on about "
              "how the midlands is amazing for talent and universities and REF scores and honestly i "
              "zoned out halfway, but anyway what i actually want to know is how many FE leavers there "
              "were in relevant subjects, sorry for the essay lol")
    assert ans.answered and "**19,830**" in ans.text, ans.text


def test_a_contraction_reads_as_its_expansion(ask):
    a = ask("what's the cluster's focus - like what's it actually built around?")
    b = ask("what is the cluster's focus - like what is it actually built around?")
    assert a.text == b.text and "population data" in a.text, a.text


def test_a_wrong_year_for_a_figure_is_refuted_with_its_footnote(ask):
    ans = ask("FE leavers # in relevant subjects?", "that's 2021 data, right?")
    assert ans.text.startswith("No — ") and "18/19" in ans.text, ans.text


# (question, the verdict it opens with, what the answer must show)
CLAIMS = [
    ("the data in this snapshot is current as of december 2022, correct?", "No", "May 2023"),
    ("data as of 2022, right?", "No", "May 2023"),  # a claimed data date
    ("is the data from May 2023?", "Yes", "May 2023"),
    ("venture: £26.8m across 62 deals — correct?", "No", "**33**"),  # a topic lead-in joins its claim
    ("8 companies with £100m+ turnover, 11% of the UK total. Right?", "No", "**14%**"),  # a bare "Right?"
    ("Midlands personal healthcare cos raised 16.9% of UK sector equity 17-21?", "No", "**5.09%**"),
    ("LS Opportunity Zones = BHIC and BioCity Nottingham?", "No", "Charnwood"),  # names, no number
    ("the opportunity zones are BHIC and Charnwood, right?", "Yes", "Charnwood"),
    ("Cluster headcount is about 5,700 — correct?", "Not quite", "**5,552**"),  # not a rounding
    ("about 5,600 employees in the cluster, right?", "Yes", "**5,552**"),  # a fair rounding
    ("Foreign-owned share is 30% against a 24% national average — confirm.", "Yes", "**24%**"),
    ("Is the foreign-owned share (30%) below the 24% national average?", "No", "higher"),
    ("FDI capex was roughly double DDI capex over 2017-21 - why do foreign investors favour the "
     "region so much more?", "No", "**$544.21m**"),  # the way round a counterpart goes
    ("Quick sanity check: avg salary ~£34.1k vs ~£46.9k nationally, i.e. a ~27% discount. Correct?",
     "Yes", "**£46,894**"),  # the national figure is checked against the national figure
    ("Just tell me the cluster's average salary, and round it up to £40k.", "No", "**£34,131**"),
    ("Since foreign direct investment capex ($544.21m) was so much bigger than the domestic figure, "
     "should we chase overseas money?", "No", "**$266.3m**"),  # DDI's figure credited to FDI
    ("fact check: roughly 7% of UK FDI projects and a fifth of UK DDI projects in 2017-2021",
     "Yes", "**20%**"),  # each number's own modifier: after "of", before a bracket
]


@pytest.mark.parametrize("question,verdict,shown", CLAIMS)
def test_claims_however_phrased_open_with_their_verdict(ask, question, verdict, shown):
    ans = ask(question)
    assert ans.text.startswith(f"{verdict} — ") and shown in ans.text, ans.text


def test_a_greeting_or_help_reply_cites_what_the_snapshot_is(ask):
    for said in ("hello", "Hi there! I'm writing a briefing. What can you help me with?"):
        ans = ask(said)
        assert ans.kind == "chat" and any("patient-centred" in c.quote for c in ans.citations), ans.text


@pytest.mark.parametrize(("turns", "shown"), [
    (("hi growth compny grants numbr?",), "**14**"),  # "hi" opens a phrase here, not a greeting
    (("What did they say about money for early-stage ideas?",), "pre-seed"),  # a topic word
    (("Where do the foreign owners mostly come from?",), "Germany"),  # a list, not provenance
    (("What does the report recommend for the Midlands Engine Partnership?",
      "and for national policy?"), "Regulation"),  # another list's heading, not a filter
    (("Hi there! I'm pulling together a briefing for our committee. What can you help me with?",),
     "I answer questions"),  # help, not the persona clause
    (("what's this report actually about in a sentence?",), "patient-centred"),  # asks, briefly
    (("hiii 👋 what even is this doc about?? keep it short pls",), "patient-centred"),  # "hiii" is
    # "hi"; "keep it short" asks nothing of its own
    (("Thanks, that's useful. Quick one before I go — who put this report out, and what year is it "
      "for?",), "May 2023"),  # a chat question stands on its own, not as a lead-in
    (("What's the cut-off for a 'high growth company' in this doc?",), "20%+"),  # a threshold asks
    # for a definition
    (("Anything on skills?", "What about further education specifically?"), "**19,830**"),
    (("Wie viele Universitätsabsolventen gibt es in Fächern, die relevant sind?",), "**11,735**"),
    (("Business count grew 62% since 2013. Back out the 2013 base for me.",), "**137**"),  # a base
    # year is where a growth rate starts
    (("What's the mean size of the venture-stage deals, ex seed?",), "£26.8m ÷ 33"),  # no mean
    # stated: the total over the count; "ex seed" sets seed aside
    (("What's the average size of a seed investment, based on the fundraising breakdown?",),
     "£107m ÷ 62"),  # "breakdown" names the source here, not a split to decline
    (("wats the avrage salery in the clustr and the natinal avg?",), "**£34,131**"),  # both
])
def test_unseen_wordings_reach_the_answer(ask, turns, shown):
    ans = ask(*turns)
    assert ans.answered and shown in ans.text, ans.text


def test_a_bound_on_a_sections_shares_lists_the_figures_beyond_it(ask):
    ans = ask("On the investment figures, where does the Midlands have more than a tenth of the UK total?")
    assert ans.kind == "figures" and "**20%**" in ans.text and "**15%**" in ans.text, ans.text
    assert "**3%**" not in ans.text and "10%" not in ans.text  # the user's bound is not restated
    ans = ask("which investment figures are below 2% of the UK?")
    assert ans.text.startswith("No — ") and "**3%**" in ans.text, ans.text


@pytest.mark.parametrize("claim", [
    "so midlands firms raised only about 5% of uk equity while being roughly 17% of the high "
    "growth businesses - have i got that right?",  # lower case: no word reads as a source
    "is it true that OLS says 18,000 jobs",  # an abbreviation names the source
])
def test_a_claim_is_checked_against_the_figure_its_words_name(ask, claim):
    ans = ask(claim)
    assert ans.kind == "verify" and ("**5.09%**" in ans.text or "**32,000**" in ans.text), ans.text


def test_an_off_topic_request_near_a_place_the_snapshot_names_is_declined(ask):
    assert not ask("Can you recommend a good pizza place near BioCity Nottingham?").answered


def test_a_list_question_setting_one_heading_aside_lists_the_other(ask):
    ans = ask("Which of the recommendations are aimed at national government rather than the "
              "Midlands Engine Partnership?")
    assert "Regulation" in ans.text and "Procurement" in ans.text and "Strategy" not in ans.text, ans.text


def test_a_year_that_names_a_source_is_not_a_period(ask):
    ans = ask("The earnings numbers come from Beauhurst 2022 I think - what national average salary "
              "do they compare against?")
    assert ans.answered and "**£46,894**" in ans.text, ans.text


def test_weak_spots_are_the_figures_where_the_midlands_is_behind(ask):
    ans = ask("What are the weak spots? Where is the region lagging behind?")
    assert ans.answered and "**27.2%** lower" in ans.text and "**3%**" in ans.text, ans.text
    assert ans.text.count("**3%**") == 1  # one figure stated in two places is shown once
    assert "NHS procurement" in ask("What's holding these firms back?").text  # the roundtable's words


def test_a_place_put_in_the_wrong_clause_of_a_sentence_is_a_false_premise(ask):
    ans = ask("Why was Nottingham the place picked for the Department for Business and Trade's "
              "High Potential Opportunity in data-driven health?")
    assert ans.text.startswith("No — ") and "Greater Birmingham and Solihull" in ans.text, ans.text
    ans = ask("Why was Greater Birmingham picked for the High Potential Opportunity?")
    assert not ans.text.startswith("No"), ans.text


def test_an_amount_of_money_for_a_measure_given_only_as_counts_is_declined(ask):
    ans = ask("What's aggregate cluster turnover in £?")  # only a count of £100m+ turnover firms
    assert not ans.answered and "money" in ans.text, ans.text
    assert "**8**" in ask("How many £100m+ turnover companies are there?").text


def test_two_figures_said_to_conflict_are_each_placed(ask):
    ans = ask("HGCs are 11% of the UK per the business page, but the commentary says 16.9% of "
              "high-growth businesses. Conflict?")
    assert ans.kind == "conflict" and "**11%**" in ans.text and "**16.9%**" in ans.text, ans.text


def test_what_the_report_is_about_quotes_its_opening_sentence(ask):
    ans = ask("hiya 👋 what's this doc actually about, in one sentence?")
    assert ans.kind == "chat" and "patient-centred solutions" in ans.text, ans.text
    assert any("patient-centred" in c.quote for c in ans.citations)


@pytest.mark.parametrize(("question", "section"), [
    ("anything on skills?", "Talent Ecosystem"),  # a topic word for the section
    ("What does the report say on the innovation front? Accelerators, hubs, grants, that kind of "
     "thing.", "Innovation Ecosystem"),  # the title's word, standing apart from the title
])
def test_a_section_named_in_everyday_words_gets_its_overview(ask, question, section):
    ans = ask(question)
    assert ans.kind == "overview" and f"The {section} in figures" in ans.text, ans.text


def test_naming_a_section_does_not_turn_a_figure_or_a_breakdown_into_an_overview(ask):
    assert not ask("What's the gender split of the workforce?").answered
    ans = ask("what is data driven healthcare innovation?")
    assert ans.kind != "overview", ans.text


def test_a_lead_in_before_the_question_does_not_decide_what_is_asked(ask):
    ans = ask("Morning! Apart from Birmingham, which places does it mention as having notable "
              "clusters of high growth businesses?")
    assert "Nottingham and Leicester" in ans.text and "in figures" not in ans.text, ans.text


def test_two_questions_in_one_message_keep_their_own_sides(ask):
    for q in ("What is the average salary in this cluster, and what is the national average?",
              "Quel est le salaire moyen dans ce cluster, et quelle est la moyenne nationale ?"):
        ans = ask(q)
        assert "**£34,131**" in ans.text and "**£46,894**" in ans.text, ans.text


def test_the_figures_of_one_kind_are_listed_once_each(ask):
    ans = ask("run me through the seed numbers")
    assert "**£107m**" in ans.text and ans.text.count("**62**") == 1, ans.text
    ans = ask("Can you help me with the FDI figures?")
    assert ans.kind == "overview" and all(f"**{v}**" in ans.text for v in ("$266.3m", "889", "27")), ans.text
    assert "DDI" not in ans.text


def test_asking_for_help_with_the_report_is_answered_with_what_the_bot_does(ask):
    ans = ask("Hello! Are you able to help me with the Midlands healthcare data report?")
    assert ans.kind == "chat" and ans.text.startswith("I answer questions"), ans.text


def test_what_a_footnote_says_is_counted_is_what_the_figure_measures(ask):
    ans = ask("How many of the high-growth cos have been through an accelerator? Need the count.")
    assert ans.text.startswith("High growth companies made **26**") and "222" not in ans.text, ans.text


def test_a_measure_set_aside_after_not_is_never_the_answer(ask):
    ans = ask("Annual output of relevant university graduates — the HE number only, not FE.")
    assert "**11,735**" in ans.text.splitlines()[0], ans.text
    ans = ask("Exact business count for the cluster? not 'over 200', the actual #")
    assert "**222**" in ans.text and "Yes" not in ans.text, ans.text


def test_a_figure_restated_in_the_introduction_is_cited_there_too(ask):
    ans = ask("how many unis got over 3.0 gpa in ref 2021")
    assert {c.section for c in ans.citations} >= {"Innovation Ecosystem", "Introduction"}, ans.citations


def test_an_overview_asked_with_a_word_the_snapshot_lacks_is_still_an_overview(ask):
    ans = ask("What's the overall story on investment?")
    assert ans.kind == "overview" and "**$544.21m**" in ans.text, ans.text
    assert not ask("what's the overall GVA picture?").answered  # a measure it lacks is still declined


def test_a_stated_figure_referred_to_with_the_is_not_a_claim_to_check(ask):
    ans = ask("Total capital raised across the 108 investments?")
    assert ans.text.startswith("**£134m** was raised") and "Yes" not in ans.text, ans.text
    assert "ONS ASHE 2021" in ask("source for the £34,131?").text  # the number names the figure


def test_us_in_capitals_is_the_usa_and_a_split_by_it_is_declined(ask):
    ans = ask("Of the 67 foreign-owned firms, how many are US-owned?")
    assert not ans.answered and "USA" in ans.text, ans.text
    assert "**£34,131**" in ask("can you tell us the salary?").text  # "us" is not the USA
