package tutor

import "strings"

// The word lists the offline themes use. They are small and hand-made on
// purpose: a course often has one week, so there is no "rest of the
// course" to measure a phrase's specificity against, and an embedded
// frequency table of general English would be megabytes for what these
// few hundred words do — name the words too common, in English or in
// any court's opinion, to carry a theme on their own.

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// funcWords never start or end a theme (only "of" may stand inside one:
// "statute of frauds").
var funcWords = wordSet(`a an the of to in on for and or but nor with by at from as is are was were be been being
	this that these those it its there their they them he she his her him we our us you your i me my not no any all each
	which who whom whose what when where why how than then also such may shall must can could would should will might
	has have had do does did done so if into upon under over about after before between against within without
	through during because while although though whether either neither both only even just very more most less least
	other others another same some many much few several every own own per via among amongst until unless since thus hence
	here therefore however yet still again further there's it's that's one two three four five six seven eight nine ten
	first second third fourth fifth last next new old v vs e g i.e e.g et al id ibid supra infra see cf accord
	said says say held holds hold like unlike also too rather quite toward towards onto out up down off`)

// dangling words cannot end a noun phrase: a theme ending in one was cut
// short ("procedural due", "the following").
var dangling = wordSet(`due such same certain various particular following foregoing above below said respective
	whole entire former latter above-mentioned non pre post sub quasi anti inter intra`)

// commonWords are words of general English and of any legal opinion that
// say nothing specific on their own: a phrase made only of them is not a
// theme ("district court", "same time", "internal quotation"). Tuned on
// the dev half of the corpus (see themes_corpus_test.go).
var commonWords = wordSet(`
	time times year years day days month months week weeks part parts way ways thing things place places end
	point points number numbers matter matters kind kinds sort type types form forms example examples reason reasons
	result results effect effects use uses purpose purposes need needs fact facts case cases question questions
	issue issues view views sense course side sides level levels term terms word words language meaning text page pages
	note notes footnote footnotes section sections paragraph subsection chapter article part title line lines
	people person persons man men woman women individual individuals member members group groups party parties
	general specific particular certain clear plain simple common ordinary special similar different whole full
	good bad great high low large small long short early late present past future prior subsequent current former
	important significant substantial relevant appropriate proper necessary sufficient reasonable unreasonable
	able possible likely unlikely true false real actual apparent available final original additional separate
	public private official federal national local international foreign domestic general whole
	make makes made making take takes took taken taking give gives gave given giving get gets got find finds found
	come comes came go goes went gone show shows showed shown seek seeks sought provide provides provided providing
	require requires required requiring include includes included including consider considers considered
	apply applies applied applying hold holding argue argues argued arguing claim claimed claiming explain explained
	conclude concluded conclusion conclusions determine determined determination decide decided decision decisions
	agree agreed disagree noted note explain reach reached follow followed address addressed allow allowed
	court courts judge judges justice justices chief opinion opinions judgment judgments ruling rulings order orders
	plaintiff plaintiffs defendant defendants petitioner petitioners respondent respondents appellant appellants
	appellee appellees party claimant movant government state states law laws legal statute statutes statutory
	act acts provision provisions rule rules regulation regulations code codes clause clauses amendment amendments
	constitution constitutional congress legislature legislative district circuit supreme appeals appeal appellate
	trial proceeding proceedings hearing hearings motion motions petition petitions brief briefs record records
	evidence argument arguments counsel attorney attorneys lawyer lawyers jury verdict action actions suit suits
	claim claims complaint complaints relief remedy matter issue holding analysis reasoning standard standards
	authority authorities power powers right rights interest interests duty duties obligation obligations
	cert certiorari curiam slip syllabus dissent dissenting concurring concurrence majority plurality en banc
	quotation quotations quoting quoted citation citations citing cited omitted alteration alterations emphasis added
	internal marks visited available online http https www supp reporter op ed eds cir ct app dist
	decided argued filed dated affirmed reversed remanded vacated denied granted dismissed
	u.s united america american washington january february march april may june july august september october
	november december monday tuesday wednesday thursday friday saturday sunday
	mr mrs ms dr hon esq inc co corp llc ltd
	one two three four five six seven eight nine ten hundred thousand million billion
	place fact matter way thing respect regard light basis ground grounds context manner
	`)

// strongHeads end the legal terms a teacher names: "the mirror image
// rule", "the Due Process Clause", "promissory estoppel", "expectation
// damages", "specific performance", "strict scrutiny".
var strongHeads = wordSet(`rule rules doctrine doctrines test tests clause clauses standard standards right rights
	exception exceptions principle principles defense defence privilege immunity estoppel damages performance
	scrutiny presumption requirement requirements amendment doctrine theory`)

// weakHeads end legal noun phrases that are often, not always, themes.
var weakHeads = wordSet(`process review liability duty remedy jurisdiction abstention preemption protection
	interest interests power powers claim claims defense injunction relief analysis inquiry framework factor factors
	act compact code statute exemption restitution restraint discrimination punishment
	negligence consideration contract contracts agreement acceptance offer breach`)

// instrumentHeads may end a capitalised phrase that is still a theme,
// not a proper name: "the Ex Post Facto Clause", "the Red River Compact".
var instrumentHeads = wordSet(`clause clauses amendment act compact code doctrine rule test standard`)

// nounSuffixes: a single word is a theme only if it reads as a noun
// ("consideration", "estoppel", "negligence", "mootness").
var nounSuffixes = []string{"tion", "sion", "ment", "ance", "ence", "ity", "ism", "ship", "ness", "ure", "ppel", "ches"}

// places are the place names a theme must not be on its own.
var places = phraseSet(`alabama alaska arizona arkansas california colorado connecticut delaware florida georgia
	hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota
	mississippi missouri montana nebraska nevada new_hampshire new_jersey new_mexico new_york north_carolina
	north_dakota ohio oklahoma oregon pennsylvania rhode_island south_carolina south_dakota tennessee texas utah
	vermont virginia washington west_virginia wisconsin wyoming puerto_rico guam district_of_columbia
	united_states united_states_of_america america us u.s england britain great_britain united_kingdom ireland
	scotland wales france germany spain italy canada mexico china japan russia india israel europe
	new_york_city chicago boston philadelphia los_angeles san_francisco jersey carolina dakota
	bangor maine new_orleans richmond austin houston dallas atlanta detroit seattle denver miami`)

// phraseSet is wordSet of phrases written with "_" for a space.
func phraseSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[strings.ReplaceAll(w, "_", " ")] = true
	}
	return m
}

// placePrefixes name a place together with what follows ("State of
// Texas", "Commonwealth of Virginia", "City of Bangor").
var placePrefixes = []string{"state of ", "commonwealth of ", "city of ", "county of ", "town of ", "republic of ", "kingdom of "}
