package moderation

import (
	"regexp"
	"slices"
	"strings"
)

// The rules below are the local layer: term and pattern lists per
// category, matched against Normalize's output (lower-case words, single
// spaces). They are kept here, beside the labelled set they are measured
// against (testdata/utterances.jsonl, TestLocalRulesOnTheLabelledSet), and
// a change to either is a change to both.
//
// Every pattern names a class of utterance (an intent and a harm verb and a
// person, a proposition, a slogan), never one sentence; each is compiled
// once, here, and RE2 keeps matching linear in the text.

// allowed are legal phrases (and a few idioms) that look risky out of
// context. They are blanked before the rules run, so "sexual harassment",
// "assisted suicide" or "the political question doctrine" never trip a
// rule, while the same words elsewhere in the utterance still can.
var allowedAlts = []string{
	// Case names: "Trump v. United States", "Miller v California".
	`[a-z']+ (?:v|vs) [a-z']+`,
	`sexual (?:harassment|assault|abuse|misconduct|orientation|battery|contact|offen[cs]es?|predators?|exploitation|violence|conduct|advances|favou?rs)`,
	`sex (?:discrimination|offenders?|offen[cs]es?|crimes?|trafficking|based|stereotyping|stereotypes|work|workers?|abuse|education|-based)`,
	`same sex`, `opposite sex`, `because of (?:sex|race)`, `on the basis of sex`, `basis of sex`,
	`statutory rape`, `rape shield`, `child pornography`, `revenge porn(?:ography)? (?:laws?|statutes?)`,
	`indecent exposure`, `hostile work environment`,
	`(?:physician|medically|doctor) assisted suicide`, `assisted suicide`, `suicide (?:exclusion|clause|provision|note|prevention|rates?|pacts?)`, `right to die`,
	// Someone else's suicide, as a question of liability or crime.
	`(?:aid\w*|assist\w*|abet\w*|encourag\w*|caus\w*|prevent\w*|solicit\w*|urg\w*) (?:a |the |another'?s |someone'?s |his |her |their )?suicide`,
	`(?:died|dies|death|deaths) by suicide`,
	// Risk as a duty-of-care question: "a patient at risk of self-harm".
	// Only a third party's risk: "I'm at risk of suicide" is the
	// student's own and must reach the self-harm rules.
	`(?:patients?|inmates?|prisoners?|students?|clients?|detainees?|insured|decedent) (?:at |with a )?(?:high |known |foreseeable )?risk of (?:suicide|self ?harm\w*)`,
	`(?:suicides?|self ?harm) (?:of|by) (?:a|an|the|his|her|their|another|someone|inmates?|patients?|prisoners?|students?|tenants?|employees?|minors?|children)`,
	`(?:patient|client|victim|decedent|insured|inmate|prisoner|employee|student|son|daughter|husband|wife|child)'?s suicide`,
	`(?:he|she|they|decedent|deceased|victim|insured|patient|client|inmate|prisoner|employee|student|son|daughter|husband|wife|person|man|woman|child|teen|teenager|defendant|plaintiff)(?:'s)? (?:had |has |later |then |eventually )?(?:committed|attempted|died by|commits|attempts) suicide`,
	// A suicide as an event in a case: "pay out after a suicide", "a
	// student's self-harm".
	// Only with insurance words: "ready for the suicide" is the student's.
	`(?:pay\w*|payout|benefits?|coverage|exclusion|claim) (?:out )?(?:after|following) (?:a|the) suicide`,
	`(?:patient|client|victim|decedent|insured|inmate|prisoner|employee|student|son|daughter|child|minor|teen|teenager|pupil)'?s self ?harm`,
	// Jailbreaking a device, a question of copyright law.
	`jailbreak\w* (?:of )?(?:an? |the |my |their |your )?(?:iphones?|phones?|devices?|consoles?|smartphones?|tablets?|cars?|tractors?|routers?)`,
	`suicide (?:is |was )?(?:still )?(?:a crime|illegal|criminal|legal|lawful)|(?:crime|crimes|criminaliz\w*|legaliz\w*|decriminaliz\w*) (?:of )?suicide|suicide (?:laws?|statutes?)`,
	`political (?:question|speech|process|expression|parties|party|contributions|advertising|ads|campaigns?|branches|subdivisions?|speakers?)`,
	`partisan gerrymander\w*`, `campaign finance`,
	`true threats?`, `felony murder`, `attempted murder`, `intent to kill`, `kill(?:ed|ing)? (?:the|a|his|her|their) (?:victim|deceased|decedent)`,
	`self defen[cs]e`,
	// Bodies of rules, and the instructions a judge gives a jury, are not
	// the tutor's: "give me the rules of evidence for hearsay again".
	`(?:federal )?rules? of (?:evidence|civil procedure|criminal procedure|appellate procedure|professional conduct|decision|construction|court|law|the road)`,
	`(?:jury|judge'?s|court'?s|limiting|curative|pattern) instructions?`, `instructions? (?:that )?the (?:trial )?(?:judge|court) gave`,
	// Idioms: "shoot the professor an email", "shooting myself in the
	// foot", a "position on" a question.
	`shoot(?:ing)? (?:[^ ]+ ){0,2}an? (?:quick )?(?:e ?mail|text|message|note|dm|question|line)`,
	`shoot(?:ing)? (?:myself|yourself|himself|herself|themselves|ourselves) in the foot`,
	`positions? (?:on|in|about|regarding|that|of)`,
	`(?:want to|wanna|could|gonna|going to|about to|might) die (?:of|from) (?:embarrassment|shame|boredom|laughter|laughing|cringe|stress)`,
	// Role play for practice: "pretend you're the judge", "act as
	// opposing counsel".
	`(?:(?:pretend|imagine|suppose) (?:that )?(?:you(?:'?re| are)|to be)|act as|play(?:ing)?(?: the role of)?|role ?play(?: as)?|you are now|you'?re now|be) (?:the |a |an |my )?(?:opposing |trial |appellate |supreme court |defense |district )?(?:judge|justice|professor|counsel|prosecutor|attorney|lawyer|witness|juror|jury|plaintiff|defendant|client|landlord|tenant|offeror|offeree|buyer|seller|clerk|mediator|arbitrator|examiner|bar examiner|police officer|officer)s?`,
}

// allowed is allowedAlts as one regexp of whole words.
var allowed = wholeWords(allowedAlts)

// allowedIdioms are blanked like allowed (moderation.go, learnedInput)
// but kept apart: idioms and third parties found by round 5's audit of the
// rules. Both lists are blanked through an altPicker (prefilter.go): a
// literal scan of the text picks the alternatives that can match it and
// runs a regexp of just those, so an alternative costs a text only when
// the text holds its words.
var baseIdiomAlts = []string{
	// More idioms of a student at work: "my dad might get laid off", "we'll
	// kill them in the final round", "not the sexiest subject". Never an
	// idiom about the student's own body or life ("cutting myself off",
	// "killing myself over this brief", "burned myself on the stove", "I
	// don't want to live in a world…"): blanking those hid real
	// statements of self-harm ("I've been cutting myself off and on for
	// months", "I burned myself with the iron again on purpose"); a
	// student who means the idiom gets the help reply, which costs
	// nothing (self-harm is no strike).
	`(?:get|got|gets|getting) laid off`,
	`kill(?:ing)? (?:it|them) (?:in|at) (?:the |our |my |this )?(?:[^ ]+ ){0,3}(?:round|rounds|competition|debate|negotiation|oral argument)`,
	`(?:not|isn'?t|aren'?t|wasn'?t) (?:exactly |really |the |a |an |that |very |the most )*sex(?:y|ier|iest)(?: (?:subject|area|topic|class|course|part|doctrine|rule)s?)?`,
	`sex(?:y|ier|iest) (?:subject|area|topic|class|course|doctrine)s?(?: of law| in law)?`,
	// A study format or role the student asks for: "from now on, answer
	// with the rule first", "you are now my study partner", "act as my
	// tutor and quiz me", "the previous instructions from the judge".
	`from now on,? (?:you will |you'?ll |please |can you |could you )?(?:answer|respond|start|begin|quiz me|ask me)(?: me)? (?:with|by|in|on) (?:the|a|one|short|shorter|plain|simple|bullet|two|three|hypos?|hearsay|each)`,
	`(?:you(?:'?re| are) now|act as|be) my (?:study partner|study buddy|tutor|quiz ?master|examiner|practice partner|sparring partner)`,
	`(?:previous |prior |earlier |the |his |her )?instructions? (?:from|of|by) the (?:trial )?(?:judge|court)`,
	// Everyday idioms: "I'll shoot you my outline".
	`shoot(?:ing)? (?:you|me|him|her|them) (?:my|the|an?|over (?:my|the|an?)) (?:[^ ]+ )?(?:outline|notes|email|e mail|text|message|question|link|draft|summary|answer|memo|doc|file|brief)s?`,
	// A student calling themselves names over a mistake: "I'm such an
	// idiot, I forgot the second element".
	`(?:i'?m|im|i am|i was|i feel like|i felt like|i'?ve been|i look like) (?:such |so |a |an |a complete |a total |being |an absolute |the biggest )*(?:idiot|moron|clown|fool|dummy|dumbass|loser)`,
	// Someone else's wish to die, as a question of capacity or duty: "a
	// patient who says they want to die". The student's own ("I want to
	// die") has no such subject and still reaches the self-harm rules.
	`(?:patients?|clients?|inmates?|prisoners?|decedents?|insured|defendants?|plaintiffs?|testators?|victims?|residents?|detainees?) (?:who |that )?(?:says?|said|tells?|told|states?|stated|express(?:es|ed)?|claims?|claimed|writes?|wrote)(?: (?:me|us|the [^ ]+|her [^ ]+|his [^ ]+))?(?: that)? (?:he|she|they) (?:wants?|wanted|want) to (?:die|end it all|end (?:his|her|their) life)`,
	// A weapon as the subject of a legal question: "a gun control paper
	// for my seminar", "knife possession charges" (not "gun case" or "knife
	// hypo": "bring my gun case to class and shoot the professor").
	`(?:guns?|weapons?|knife|knives|firearms?) (?:rights|control|laws?|policy|policies|regulations?|bans?|statutes?|possession|charges?|licen[cs]es?)`,
}

// thirdPartySuicideAlts are round 8's: someone else's suicide or
// self-harm as a case's facts or a policy's term, a third person always
// named: "a suicide in the jail", "the guards put him on suicide watch",
// "the kid was suicidal", "a patient who'd talked about suicide", "the
// policy excluded suicide", "the coroner ruled it a suicide", "his
// suicide attempts", "student self-harm". They blank the words of an
// utterance only while it is nobody's own: in one where the speaker or
// the one spoken to appears (personal), the self-harm rules read it
// without them (ownSelfHarm) — "I'm ending it all tonight, does the
// policy still cover suicide" is the student's own.
var thirdPartySuicideAlts = []string{
	`(?:a|the|an inmate'?s|a prisoner'?s|a patient'?s) suicide (?:in|at|inside) (?:the |a |an |his |her |their )?(?:county |city |state |federal |local |psychiatric )?(?:jail|prison|cell|custody|hospital|facility|ward|unit|school|dorm|barracks|detention center|holding cell|nursing home)`,
	`(?:suits?|lawsuits?|claims?|actions?|cases?|litigation|liability|damages|settlement) (?:[^ ]+ ){0,2}(?:over|for|after|about|arising (?:out of|from)) (?:a|the|his|her|their|an inmate'?s|a prisoner'?s|a patient'?s|a student'?s) suicides?`,
	`(?:him|her|them|inmates?|prisoners?|patients?|detainees?|the [^ ]+) (?:on|off|from) suicide watch`,
	`(?:a|the|its|their) suicide (?:risk )?(?:assessments?|screenings?|protocols?|precautions?|polic(?:y|ies))`,
	`(?:he|she|they|decedent|deceased|victim|insured|patient|client|inmate|prisoner|detainee|employee|worker|student|pupil|kid|child|minor|teen|teenager|son|daughter|husband|wife|boyfriend|girlfriend|person|man|woman|defendant|plaintiff|soldier|veteran|resident|tenant)s? (?:was|were|is|are|became|had been|has been|seemed|appeared) (?:actively |acutely |chronically |possibly |clearly |severely )?suicidal`,
	`(?:he|she|they|decedent|victim|insured|patient|client|inmate|prisoner|detainee|employee|worker|student|kid|child|minor|teen|teenager|son|daughter|husband|wife|person|man|woman|defendant|plaintiff|veteran|resident)s? (?:who|that)(?: had| has| have|'d)? (?:talked|spoke|spoken|written|wrote|joked|threatened|posted|thought) (?:about|of) (?:suicide|self ?harm|killing (?:himself|herself|themselves))`,
	`(?:he|she|they|decedent|victim|insured|patient|client|inmate|prisoner|detainee|employee|student|kid|child|minor|teen|teenager|son|daughter|person|man|woman|defendant|plaintiff|veteran|resident)s? (?:had|has|have|with) (?:a )?(?:long |known |documented )?history of (?:suicide attempts?|self ?harm|suicidal [^ ]+)`,
	`(?:made|makes|make|making|drove|drives|drive|driven|pushed|push) (?:him|her|them|the [^ ]+) (?:think|thinking|to think) (?:about|of) (?:suicide|self ?harm)`,
	`(?:his|her|their) (?:prior |earlier |previous |repeated |first |second |later |several |multiple )?(?:suicide|suicide attempts?|self ?harm)`,
	`(?:student|inmate|prisoner|patient|employee|teen|adolescent|youth|juvenile|veteran|worker) (?:self ?harm|suicides?)`,
	`(?:polic(?:y|ies)|insurers?|clauses?|exclusions?|contracts?|plan) (?:[^ ]+ ){0,2}(?:excluded|excludes|exclude|covered|covers|cover|barred|bars) (?:a |any |death by |deaths by )?suicides?`,
	`(?:ruled|classified|deemed|called|declared|found|listed|certified) (?:it|the death|his death|her death|their death) (?:was |as |to be )?(?:a )?suicide|(?:the |his |her |their )?death (?:was|is|wasn'?t|isn'?t) (?:a |not a |really a )?suicide`,
}

// allowedIdiomAlts are the idioms blanked in every utterance's words
// but a personal one's round 8 alternatives (ownSelfHarm).
var allowedIdiomAlts = slices.Concat(baseIdiomAlts, thirdPartySuicideAlts)

// allowedIdioms is allowedIdiomAlts as one regexp of whole words.
var allowedIdioms = wholeWords(allowedIdiomAlts)

var (
	allowedIdiomPhrases = newAltReplaceFilter(allowedIdiomAlts)
	// baseIdiomPhrases and thirdPartySuicidePhrases blank the two parts
	// of allowedIdiomAlts apart, for ownSelfHarm.
	baseIdiomPhrases         = newAltReplaceFilter(baseIdiomAlts)
	thirdPartySuicidePhrases = newAltReplaceFilter(thirdPartySuicideAlts)
)

// A matcher says whether a rule's pattern occurs in normalized text: a
// pattern, or a pattern with a condition (unless).
type matcher interface {
	MatchString(s string) bool
}

// A rule is a pattern for one category.
type rule struct {
	cat Category
	re  matcher
}

// unless matches re except in an utterance that also matches context:
// words with a legal use ("sexual", "nude", "MAGA") count only outside
// plainly legal discussion, threats only outside reported speech.
type unless struct {
	re, context *pattern
}

func (u unless) MatchString(s string) bool { return u.re.MatchString(s) && !u.context.MatchString(s) }

func rules(cat Category, patterns ...string) []rule {
	out := make([]rule, len(patterns))
	for i, p := range patterns {
		out[i] = rule{cat: cat, re: compile(p)}
	}
	return out
}

// rulesUnless are rules that do not fire where context matches.
func rulesUnless(cat Category, context *pattern, patterns ...string) []rule {
	out := make([]rule, len(patterns))
	for i, p := range patterns {
		out[i] = rule{cat: cat, re: unless{re: compile(p), context: context}}
	}
	return out
}

// legalContext marks an utterance as plainly legal discussion: doctrine,
// sources of law, parties and procedure. In such an utterance the words
// that law uses too ("sexual behavior under Rule 412", "nude dancing",
// "a MAGA hat at the polls") are its subject, not a request; propositions
// and explicit requests ("describe sex with me") are caught by the rules
// that do not look at context.
var legalContext = compile(legalContextWords)

const legalContextWords = `statutes?|statutory|rules?|amendments?|doctrines?|courts?|held|holds|holding|holdings|clauses?|constitution\w*|scrutiny|due process|equal protection|rational basis|fundamental rights?|title (?:vii|ix|seven|nine)|jury|jurors?|defendants?|plaintiffs?|prosecut\w*|convict\w*|offen[cs]es?|evidence|evidentiary|admissib\w*|inadmissib\w*|victims?|damages|malice|liab\w*|torts?|tortious|regulations?|regulat\w*|ordinances?|precedents?|justices?|opinions?|dissent\w*|concurr\w*|plurality|overbroad\w*|overbreadth|vague\w*|speech|privacy|harassment|discriminat\w*|crimes?|criminal\w*|felon\w*|misdemeanou?rs?|unlawful|illegal|lawful|legal|legally|laws?|ban|bans|banned|prohibit\w*|defamat\w*|libel|obscen\w*|indecen\w*|testimony|witness\w*|trial|appeal\w*|lawsuit|sued|claims?|cases?|congress|legislat\w*|election law|voting rights|protected|unprotected|emotional distress|infliction|publicity|negligen\w*|probable cause|suspicion|title ix|employer|employee|school district|contracts?|enforceab\w*|unenforceab\w*|agreements?|breach\w*|landlords?|tenants?`

// electionLaw is legalContext and the words of election and employment
// law about a candidate: "a Trump 2024 shirt at the polls", "the Hatch
// Act", "can my employer fire me if I vote for".
var electionLaw = compile(legalContextWords + `|electioneering|polls|polling (?:place|station)s?|hatch act|executive orders?|fire[ds]?|firing`)

// lawTalk is legalContext and the rules' legal words: an utterance that
// speaks of law at all.
// "Opinion" is left out: "the best candidate, in your opinion?".
var lawTalk = compile(strings.Replace(legalContextWords, `opinions?|`, ``, 1) + `|` + strings.Replace(strings.TrimSuffix(strings.TrimPrefix(legalWords.re.String(), `\b(?:`), `)\b`), `|opinion|`, `|`, 1) + `|estoppel|exceptions?|elements?|facts?`)

// hypoContext is legalContext and a hypothetical's facts: "the guy in
// the hypo is a fool for signing that".
var hypoContext = compile(legalContextWords + `|hypos?|hypothetical\w*|fact patterns?|in the facts`)

// gossipLaw is legalContext and what a celebrity may do about the press:
// "can a celebrity stop paparazzi photos of her dating life".
var gossipLaw = compile(legalContextWords + `|paparazzi|can (?:a |the )?(?:[^ ]+ )?(?:stop|sue|block|prevent|enjoin|get an injunction)`)

// sexLaw is legalContext and the words of a crime's facts, in which a
// criminal law question tells what happened ("in the hypo he had sex with
// her while she was passed out", "what makes an erotic book obscene under
// Miller", "sexting between minors").
var sexLaw = compile(legalContextWords + `|consen\w*|alleg\w*|assault\w*|rape|raped|battery|hypos?|hypothetical\w*|fact pattern|minors?|miller|roth|ferber|jacobellis|barnes|lawrence|fraud\w*|adultery|divorc\w*|marital|fcc|broadcast\w*|supervisors?|workplace|coworkers?|co workers?|constructive discharge|hostile environment|retaliat\w*`)

// offTopicContext excuses the off-topic patterns in legal talk that
// mentions a game, a height or a time: "is the Olympics logo a trademark",
// "the Chiefs game and assumption of risk", "the reasonable person".
var offTopicContext = compile(legalContextWords + `|trademark\w*|copyright\w*|assumption of risk|hypothetical\w*|hypos?|reasonable person|endorse\w*|sponsor\w*|readings?|outlines?|syllabus|elements?|consideration|estoppel|mens rea|hearsay|negligence|the (?:first|second|third|last|next|other) case|consen\w*|assumes? (?:the|a) risk`)

// reportedSpeech marks a threat as quoted, reported or hypothetical ("if
// he says 'I'm going to shoot you', is that assault?", "a student who
// said he wanted to shoot up the school"), which law students ask about;
// a threat in the student's own voice has none of it.
var reportedSpeech = compile(`(?:defendant|plaintiff|victim|accused|suspect|attacker|assailant|robber|officer|tenant|landlord)s? (?:[^ ]+ )?(?:says?|said|tells?|told|yells?|yelled|shouts?|shouted|screams?|screamed|threatens?|threatened|texts?|texted|writes?|wrote|posts?|posted)|(?:said|says|wrote|writes|posted|posts|texted|threatened|claimed|joked|stated|announced|told(?: [^ ]+){0,2})(?: that)? (?:he|she|they)(?:'d|'ll| would| will| was going to| were going to| is going to| are going to| was gonna| wanted to| wants to| planned to| plans to)|(?:if|when|whether|suppose|say) (?:i|he|she|they|someone|somebody|a (?:student|person|man|woman|defendant|neighbou?r)|the (?:defendant|student|man|woman|accused)|my client) (?:[^ ]+ )?(?:says?|said|tells?|told|texts?|texted|posts?|posted|writes?|wrote|yells?|yelled|shouts?|shouted|threatens?|threatened|jokes?|joked)|(?:is|was|would|does|did) (?:it|that|this|saying|posting|writing|texting) (?:[^ ]+ ){0,3}(?:an? )?(?:threat|assault|battery|crime|criminal|protected|incitement|harassment|illegal|arson|attempt|murder|manslaughter|conspiracy|solicitation|justified|reasonable|lawful|offen[cs]e|violation|felony|misdemeanou?r)|in the (?:hypo|hypothetical|fact pattern),? (?:he|she|they|the (?:defendant|man|woman|student|tenant|neighbou?r|[^ ]+er)|a (?:man|woman|student|person)) (?:[^ ]+ )?(?:says?|said|threatens?|threatened|tells?|told|yells?|yelled|texts?|texted|writes?|wrote)`)

// promptLaw marks a system prompt as the subject of a legal question.
var promptLaw = compile(legalContextWords + `|trade secrets?|litigation|discover(?:y|able)|subpoena\w*|copyright\w*|patent\w*|terms of service|injunctions?`)

// restrictionLaw is legalContext without the words of the tutor's own
// limits ("rules"), with those of a regulation's: "no limits on
// contributions", "no restrictions on commercial speech", "no rules on
// that in the UCC".
var restrictionLaw = compile(strings.Replace(legalContextWords, `rules?|`, ``, 1) + `|ucc|restatement|contributions?|expenditures?|commercial|the state|government|states|property|zoning|citizens united`)

// executionLaw marks a question about the death penalty's methods
// (Baze, Glossip), which speaks of painless ways to die.
var executionLaw = compile(`executions?|executed|lethal injections?|death penalty|capital punishment|eighth amendment|death row|condemned|inmates?|prisoners?`)

// Shared pieces of the patterns.
const (
	// gap is one word of any kind (normalized words are separated by
	// single spaces); "(?:" + gap + "){0,3}" allows up to three.
	gap = `[^ ]+ `

	// intent is the student's own voice announcing what they will do;
	// "going to"/"gonna" without a subject count only at the start ("gonna
	// shoot up..."), so "he was going to kill him" (self-defense) does not.
	intent   = `(?:(?:i'?m|im|i am|i was) (?:really |just |seriously |literally )?(?:going to|gonna|about to|fixing to|finna|planning to|planning on|ready to)|i'?ll|^ill|i will|i wanna|i want to|i need to|i have to|i gotta|i intend to|i plan to|i swear|i promise|^(?:gonna|going to|about to|finna|wanna|want to|gotta))`
	harmVerb = `(?:kill(?:ing)?|shoot(?:ing)?|stab(?:bing)?|knife|hurt(?:ing)?|murder(?:ing)?|strangle|strangling|choke|choking|punch(?:ing)?|slap(?:ping)?|smack(?:ing)?|bomb(?:ing)?|blow(?:ing)? up|poison(?:ing)?|burn(?:ing)?|torch(?:ing)?|slash(?:ing)?|rape|raping|assault(?:ing)?|beat(?:ing)? up|beat(?:ing)? the (?:crap|shit|hell|life) out of|bash(?:ing)?|run(?:ning)? over|gun(?:ning)? down|mow(?:ing)? down|break(?:ing)? (?:his|her|their|your) (?:legs?|arms?|neck|face|jaw|nose|skull))`
	// target is a person or a place a threat is aimed at: an optional
	// determiner and one more word ("my study partner", "the law
	// school", "opposing counsel"), then the noun; or a pronoun. Then a
	// word break that is not a possessive ("hurt the dean's chances").
	target = `(?:(?:him|her|them|you|y'?all|everyone|everybody|someone|somebody|anyone|anybody|all of (?:them|you|us)|every (?:single )?one of (?:them|you))|(?:` + det + ` )?(?:[^ ]+ )?` + personNoun + `)(?: |$)`
	// owner is whose body or belongings: "his", "my roommate's".
	owner      = `(?:his|her|their|your|(?:` + det + ` )?(?:[^ ]+ )?` + personNoun + `'s)`
	det        = `(?:my|the|that|this|our|your|his|her|their|a|some|every|all|those|these|one of (?:my|the|our))`
	personNoun = `(?:professors?|profs?|teachers?|lecturers?|instructors?|roommates?|classmates?|deans?|ex|exes|boss|bosses|wife|husband|girlfriend|boyfriend|gf|bf|neighbou?rs?|students?|tutors?|kids?|children|family|mom|mum|mother|dad|father|brother|sister|people|guy|guys|dude|man|woman|girl|person|ta|tas|teaching assistants?|partners?|(?:study|reading|moot court) group|gunners?|section ?mates?|coworkers?|co workers?|landlord|cops?|police|officers?|counsel|lawyers?|attorneys?|judges?|advisors?|administrators?|staff|school|campus|building|lecture hall|library|dorm|church|mosque|synagogue|office|clinic)`
	// place is where a weapon or an attack on campus would go.
	place  = `(?:class|classes|school|campus|lecture|lectures|exam|exams|final|finals|building|library|office hours|section|seminar|moot court|dorm|orientation|graduation|courthouse|clinic)`
	weapon = `(?:guns?|pistols?|rifles?|handguns?|shotguns?|glock|ar ?15|knife|knives|machete|blade|bombs?|pipe bomb|explosives?|weapons?|ammo)`

	party = `(?:democrats?|republicans?|dems|gop|libs|libtards?|maga|magats?|rinos?|repubs|leftists?|right ?wingers?|left ?wingers?|the democratic party|the republican party|the far left|the far right|the radical left|the right wing|the left wing)`
	// ideology labels are also how lawyers describe justices ("the
	// conservative majority"): only a sweeping plural judgement counts.
	ideology = `(?:liberals|conservatives|progressives|lefties|socialists|communists|trumpers)`
	politico = `(?:trump|biden|harris|kamala|obama|desantis|vance|pelosi|aoc|newsom|hillary|clinton|sanders|bernie|mcconnell|walz|pence|haley|rfk|schumer|mamdani)`
	// insult is a sweeping verdict on a party or a politician; judgement
	// adds the comparisons ("better", "best") that legal talk also uses,
	// for the rules that know the utterance is about politicians.
	judgement = `(?:better|worse|best|worst|smarter|dumber|great|amazing|deserve|should win|will win|should lose|` + insult + `)`
	insult    = `(?:ruin\w*|destroy\w*|evil|idiots?|stupid|morons?|corrupt|hate|trash|garbage|suck|sucks|are the problem|fascists?|communists?|socialists?|nazis?|traitors?|criminals?|liars?|clowns?|dumb|terrible|awful|must be stopped|hypocrites?|hypocritical|bigots?|bigoted|racists?|snowflakes?|sheep|brainwashed|cowards?|crooks?|crooked|losers?|lunatics?|extremists?|radicals?|nuts|insane|crazy|deplorables?|cry|crying|cope|seethe|the only (?:ones?|party|hope|choice)|(?:can|will|could|gonna|going to) save (?:us|america|the country|this country|democracy)|the future|right about everything|always right|always wrong|disasters?|a joke|embarrassment|failures?|senile|puppets?|incompetent|greatest|goat|heroe?s?|saviou?r|legend|genius)`
	celebrity = `(?:(?:which|what) (?:actors?|actress(?:es)?|singers?|rappers?|celebs?|athletes?|stars?|influencers?|youtubers?)|miley|kylie|kendall|kourtney|ariana|britney|adele|shakira|madonna|lizzo|cardi b|taylor swift|travis kelce|kelce|kardashians?|kim k|khloe|kanye|beyonce|jay z|rihanna|drake|justin bieber|bieber|selena gomez|hailey bieber|brad pitt|angelina jolie|jolie|leonardo dicaprio|dicaprio|tom cruise|zendaya|tom holland|timothee chalamet|chalamet|kylie jenner|kendall jenner|jenner|ariana grande|harry styles|miley cyrus|britney spears|johnny depp|amber heard|ben affleck|jennifer lopez|j ?lo|elon musk|oprah|diddy|p diddy|blake lively|ryan reynolds|celebrit(?:y|ies)|famous people|influencers?|movie stars?|pop stars?|tv stars?|royals|royal family|prince harry|meghan markle|famous (?:actors?|actress(?:es)?|singers?|rappers?|athletes?|musicians?|persons?|couples?|stars?|youtubers?|tiktokers?)|hollywood (?:stars?|couples?|actors?|actress(?:es)?)|a ?listers?|reality (?:tv |show )?(?:stars?|family|families|couples?|cast|personalit(?:y|ies)))`
	gossipy   = `(?:dating|dates|datin|boyfriend|girlfriend|bf|gf|cheat\w*|affair|hook(?:ed|ing)? up|broke up|break ?up|breaking up|split(?:ting)? up|splits?|pregnant|baby bump|engaged|engagement|secretly|rumou?rs?|gossip|tea|drama|feud\w*|beef\w*|fight(?:ing|s)?|fought|hot|sleeping with|kissed|kissing|relationship|married|marry|wedding|divorc\w*|dumped|exes|fling|love life|side piece|new (?:man|woman|flame|beau|boo)|newest|back (?:together )?with|seeing|spotted with|date|dated|still with|together|hottest|sexiest|couples?|hated|most hated|overrated|happened between|going on between)`

	// sexualTerms have a legal use too (rape shield, Barnes, Lawrence):
	// they count outside legalContext only.
	sexualTerms = `lap ?dances?|sex|sexual|sexually|sexuality|sexting|sext|sexts|nude|nudes|nudity|naked|nude (?:pics?|photos?|selfies?)|porn|porno|pornographic|pornography|erotic\w*|dick|cock|penis|vagina|genitals?|seduc\w*|masturbat\w*|strip ?tease|stripper|lingerie`
	// sexualWord is a word a sexual request is about.
	sexualWord = `(?:sex|sexual|sexy|nude|naked|erotic|porn\w*|dirty|naughty|steamy|spicy|smutty|x rated|raunchy|kinky|nsfw|lewd)`
)

// terms compiles a list of words and phrases as one regexp. The list is
// sorted so that the parser factors common prefixes ("law|laws|lawsuit"),
// which makes the NFA several times faster; the order of alternatives is
// no matter for MatchString.
func terms(list ...string) *termList {
	list = slices.Clone(list)
	slices.Sort(list)
	re := wholeWords(list)
	return &termList{re: re, alts: newAltPicker(list, re)}
}

// A termList is a list of terms as one regexp of whole words (re), matched
// through an altPicker: a text runs only the terms whose words it holds,
// most texts none (a question about the reading holds no off-topic term).
type termList struct {
	re   *regexp.Regexp
	alts *altPicker
}

// MatchString is t.re.MatchString(s).
func (t *termList) MatchString(s string) bool {
	re := t.alts.pick(s)
	return re != nil && re.MatchString(s)
}

// legalWords mark an utterance as being about law, which the off-topic
// rules need before they call "bitcoin" or "football" a change of subject.
var legalWords = terms(
	`law`, `laws`, `legal`, `court`, `courts`, `case`, `cases`, `statute`, `statutes`, `statutory`,
	`rule`, `rules`, `holding`, `held`, `holdings`, `liable`, `liability`, `contract`, `contracts`,
	`tort`, `torts`, `plaintiff`, `defendant`, `defendants`, `constitution`, `constitutional`,
	`amendment`, `doctrine`, `negligence`, `negligent`, `precedent`, `jury`, `judge`, `judges`,
	`regulation`, `regulations`, `regulate`, `regulated`, `regulatory`, `sec`, `securities`, `howey`,
	`crime`, `crimes`, `criminal`, `prosecut\w*`, `damages`, `remedy`, `remedies`, `breach`, `duty`,
	`clause`, `opinion`, `dissent`, `majority`, `justice`, `appeal`, `appellate`, `standing`,
	`jurisdiction`, `evidence`, `hearsay`, `testimony`, `property`, `title`, `estate`, `trust`,
	`trusts`, `agency`, `consideration`, `offer`, `acceptance`, `reading`, `readings`,
	`professor said`, `political`, `politics`, `mens rea`, `actus reus`, `lawsuit`, `sue`, `sued`,
	`suing`, `lawyer`, `attorney`, `counsel`, `injury`, `injured`, `trespass`, `nuisance`, `fraud`,
	`antitrust`, `copyright\w*`, `trademark\w*`, `patent\w*`, `fair use`, `trade secrets?`, `public domain`, `force majeure`,
	`act of god`, `impossibility`, `impracticability`, `frustration of purpose`, `tax`, `ucc`,
	`restatement`, `assumption of risk`, `defen[cs]es?`, `battery`, `assault`, `consent`, `threats?`,
	`threatening`, `speech`, `protected`, `free speech`, `murder`, `homicide`, `manslaughter`,
	`robbery`, `theft`, `burglary`, `arson`, `arrest\w*`, `warrants?`, `seizures?`, `miranda`,
	`custody`, `guilty`, `acquit\w*`, `convict\w*`, `charged`, `charges`, `trials?`, `verdict`,
	`felony`, `misdemeanou?r`, `ordinance`, `rights`, `due process`, `equal protection`, `scrutiny`,
	`malice`, `defamation`, `libel`, `slander`, `privacy`, `discriminat\w*`, `harassment`,
	`employers?`, `employment`, `congress`, `legislat\w*`, `supreme court`, `circuit`, `federal`,
	`immunity`, `landlord`, `tenant`, `lease`, `easement`, `covenant`, `mortgage`, `probate`,
	`insurance`, `bar exam`, `moot court`, `law school`, `hypos?`, `hypotheticals?`, `clerkship`,
	`motion`, `discovery`, `pleading`, `venue`, `preemption`, `estoppel`, `procedure`, `civ pro`, `con law`, `crim law`, `licens\w*`, `incitement`,
	`punish\w*`, `obscenity`, `first amendment`, `enforce\w*`, `waivers?`, `non ?competes?`, `misrepresent\w*`, `warrant(?:y|ies)`, `merchantability`,
	`obscene`, `reading`, `outline`, `dissent`, `hypo`, `doctrine`, `consents?`, `consented`, `assumes? (?:the|a) risk`,
	// Round 8: what a business may do to a customer is a legal question
	// ("can a video game company ban a player and keep his money", "can a
	// pizza place refuse to deliver to a neighborhood").
	`can (?:a|an|the) (?:[^ ]+ ){0,3}(?:company|business|store|shop|restaurant|place|landlord|employer|school|league|team|website|app|platform|bar|club|gym|hotel|airline|bank|seller|vendor) (?:legally )?(?:ban|refuse|deny|keep|charge|kick|evict|cancel|terminate|fire|sue|withhold)`,
)

// offTopicTerms are subjects far from a law course.
var offTopicTerms = terms(
	`recipes?`, `movies? (?:are |is )?(?:out|playing|showing)`, `in theaters`, `square root`, `world series`, `stanley cup`, `nba finals`, `sourdough`, `pancakes`, `candy crush`, `beat (?:level|the level|this level|the game|the boss)`, `level \d+`, `pasta`, `lasagna`,
	`banana bread`, `dinner ideas`, `football`, `nfl`, `nba`, `mlb`, `nhl`, `soccer`, `basketball`,
	`baseball`, `hockey`, `super bowl`, `world cup`, `playoffs?`, `score last night`,
	`game last night`, `fantasy team`, `fantasy football`, `march madness`, `lakers`, `celtics`,
	`yankees`, `dodgers`, `ufc`, `boxing`, `nascar`, `formula one`, `video games?`, `gamer`,
	`fortnite`, `minecraft`, `roblox`, `playstation`, `xbox`, `nintendo`, `zelda`, `call of duty`,
	`league of legends`, `elden ring`, `dark souls`, `skyrim`, `fifa`, `madden`, `valorant`,
	`overwatch`, `apex legends`, `genshin`, `ultimate team`, `final boss`, `boss (?:fight|battle)s?`,
	`speedrun\w*`, `rain tomorrow`, `crypto`, `bitcoin`, `ethereum`, `solana`,
	`dogecoin`, `memecoins?`, `altcoins?`, `nft`, `stock tips?`, `stocks to buy`, `invest in`,
	`day trading`, `calculus`, `precalc`, `trigonometry`, `geometry`, `algebra`,
	`physics`, `biology`, `organic chem`, `derivative of`, `integral of`,
	`(?:solve|compute|calculate|evaluate) (?:this |the |an? )?(?:integral|derivative|equation|limit)`,
	`sine`, `cosine`, `quadratic`, `polynomial`, `logarithm`, `solve for x`,
	`(?:calc|math|stats|physics|chem|bio|spanish|french|german|history|english|econ|psych) (?:class|homework|exam|test|quiz|problem|assignment|pset)`,
	`\d+ (?:times|plus|minus|divided by|squared) \d+`, `photosynthesis`, `mitosis`, `periodic table`,
	`covalent`, `calories`, `nutrition`, `who (?:painted|invented|discovered|composed|sang)`,
	`checkers`, `sudoku`, `wordle`, `crossword`,
	`let'?s play (?:a game|twenty questions|20 questions|trivia)`, `gift ideas?`,
	`birthday (?:gift|present|party|cake)`, `what should i get (?:my|for)`, `essay for my english`,
	`english essay`, `history essay`, `python`, `javascript`, `java code`, `write code`, `coding`,
	`programming`, `debug my`, `leetcode`, `sql query`, `movie recommendations?`, `movies? to watch`,
	`(?:recommend|suggest)(?: me)? (?:a |an |some )?(?:good |great |fun |new |funny |scary )?(?:movies?|films?|tv shows?|shows?|series|songs?|albums?|podcasts?|anime)`,
	`watch tonight`, `binge ?watch\w*`, `what should i watch`, `netflix`, `tv shows?`, `anime`,
	`song lyrics`, `playlist`, `spotify`, `horoscope`, `zodiac`, `astrology`, `tarot`,
	`workout`, `diet`, `lose weight`, `protein`, `travel plans`, `flights? to`,
	`best burger`, `pokemon`, `star wars`,
	`taylor swift's new album`, `new album`, `concert tickets`, `dating app`, `tinder`,
	`what should i wear`, `outfit`, `haircut`, `car repair`, `oil change`, `oil leak`,
	`fix my (?:car|bike|phone|laptop|computer|printer)`, `knitting`, `gardening`,
	`(?:what'?s|what is|whats) the capital (?:city )?of`, `capital city of`,
	`fun facts?`, `riddles?`, `tell me a joke`, `knock knock`,
)

// offTopicPhrases are subjects far from a law course that are named in
// passing too: cooking, pets, the weather, the gym, a trip, as the subject
// asked about, not as the noise of a student's day ("sorry, my dog was
// barking", "I'm a bit under the weather", "my roommate is cooking", "I
// just got back from the gym", "how do I differentiate the two"). Each is
// its own rule (unless the utterance speaks of law, or the words are an
// idiom), so the literal scan skips those a text cannot hold; in
// offTopicTerms' one regexp they made every check several times slower.
var offTopicPhrases = []string{
	`(?:how (?:do i|to|do you|should i|long to|long do i)|what (?:should|can|do) i|best way to|help me|teach me to|learn to) (?:cook|bake)`, `(?:cook|cooking|bake|baking) (?:for dinner|dinner|lunch|breakfast|rice|pasta|steak|chicken|eggs|a cake|bread|cookies|something)`, `(?:bake|baking|chocolate chip|sugar) cookies`,
	`pizza (?:place|places|topping|toppings|or|near)`, `on pizza`, `slice of pizza`, `(?:best|good|favou?rite) pizza`, `order(?:ing)? pizza`,
	`(?:adopt|adopting|get|getting|buy|buying) (?:a |another |my first )?(?:dog|cat|puppy|kitten|pet)`, `(?:dog|cat|puppy|kitten|pet) (?:names?|breeds?|food|tricks|training|toys?)`, `name (?:for )?(?:a|my|our) (?:new )?(?:[^ ]+ ){0,2}(?:dog|cat|puppy|kitten)`, `(?:poem|haiku|rap|song|limerick|story|sonnet|joke) about (?:my |a |the |our )?(?:[^ ]+'s )?(?:dog|cat|puppy|kitten|pet)`, `(?:cats? or (?:a )?dogs?|dogs? or (?:a )?cats?)`, `(?:do you like|do you have) (?:a )?(?:dogs?|cats?|pets?|puppies|kittens?)`, `hairballs?`, `(?:my|our) (?:dog|cat|puppy|kitten) (?:keeps (?:throwing up|scratching|chewing|peeing|biting|barking at night)|is sick|won'?t eat)`,
	`(?:what'?s|what is|how'?s|how is|whats) the weather`, `weather (?:like|going to be|tomorrow|this weekend|today|forecast)`, `forecast (?:for|tomorrow|this weekend|today)`, `will it (?:rain|snow)`, `weather and climate`,
	`gym (?:routine|plan|schedule|split|workout)s?`, `(?:at|to) the gym (?:today|tomorrow|tonight|later|after|every)`,
	`(?:book|find|recommend|suggest)(?: me)? (?:a |the )?(?:cheap |good |nice |best )?hotels?`, `best hotels?`, `hotel (?:recommendations?|deals?)`,
	`(?:plan|planning)(?: my| a| our)? (?:vacation|trip)`, `vacation (?:ideas|spots|destinations|plans)`, `where should i (?:go|travel) (?:on|for)`,
	`(?:x|y|\d+) squared`, `(?:integrate|differentiate) (?:x|y|e|sin|cos|tan|ln|log|the function|this function|f of x)\b`,
	`trivia (?:questions?|night|games?|quiz)`, `(?:some |fun |random )trivia`,
	`(?:better at|play|playing|learn|learning) chess`, `chess (?:openings?|moves|strategy|tips)`,
	`(?:fix|change|changing|patch) (?:a |my |the )?flat tire`,
	`bread recipe`, `(?:bake|baking|make|making) (?:banana |sourdough )?bread`, `soup recipe`, `(?:chicken|tomato|noodle|lentil|pho) soup`, `cake (?:recipe|ideas?|for)`, `(?:bake|baking|make|making) (?:a |the )?cake`,
	`lyrics (?:to|of|for)`, `the lyrics`, `gaming`, `chemistry`, `marvel`,
	`restaurant (?:recommendations?|near|for (?:dinner|lunch|a date)|to try)`, `(?:good|best|nice|cheap|new|favou?rite) restaurants?`,
}

// offTopicExcuse is legal talk (the rules' legal words) and idioms made of
// off-topic words: "under the weather", "a piece of cake", "bread and
// butter", "good chemistry with my study group", "gaming the system".
var offTopicExcuse = compile(strings.TrimSuffix(strings.TrimPrefix(legalWords.re.String(), `\b(?:`), `)\b`) + `|under the weather|piece of cake|icing on the cake|(?:have|has|having) (?:your|my|their|his|her|its) cake and eat it|bread and butter|(?:good|great|bad|no|some|zero) chemistry (?:with|between|in)|gam(?:e|ing) the system|(?:it'?s|that'?s|is) a (?:small )?marvel`)

// localRules are the patterns of every category; off-topic also has its
// terms above (offTopicTerms without legalWords), and here only an
// explicit change of subject away from the law.
var localRules = concat(
	rulesUnless(Sexual, sexLaw, sexualTerms,
		// Sex as what happened, which criminal law asks about.
		`(?:have|having|had) sex|sex with`,
		// "Sexual jokes in class under Title IX" is harassment law.
		`(?:sex|sexual) (?:jokes?|limericks?)`),
	rules(Sexual,
		// Slang, explicit words and euphemisms, which law has no use for.
		`sexy|sexier|sexiest|dirtiest|naughtiest|kinkiest|horny|boobs?|tits|titties|pussy|blowjobs?|handjobs?|orgasm\w*|fetish\w*|kinky|(?:have|got|has|what'?s your|whats your|your|any) (?:a |any )?kinks?$|kinks? (?:for|are you into)|nsfw|onlyfans|hentai|smut|smutty|raunchy|naughty|steamy|threesome|foreplay|make out with|making out with|make out session|dirty talk|talk dirty|talking dirty|get laid|booty call|friends with benefits|netflix and chill|fool around with (?:me|you)|(?:wanna|want to|let'?s|lets) fool around(?: tonight| later| a little| for a bit)?$|mess around with me|sugar (?:daddy|mommy|baby)|horizontal (?:tango|mambo|polka|refreshment)|do the deed|spicy pics?|send pics|freaky|dtf|like it rough|moan (?:for|with) me|moan my name|turns? (?:me|you) on|what gets you (?:hot|going|off)|strip for me|twerk for me|touch(?:ing)? (?:myself|yourself)|(?:see|watch) you (?:undress|naked|strip)|(?:can we|let'?s|lets|wanna|want to|we could|we should) sext|i (?:want|need) you (?:so bad|so much|right now|in bed|now)|make (?:this|it|things|our|the)(?: session| chat| conversation)? (?:a little |a bit |even )?more (?:intimate|romantic|sexy|spicy)|kiss (?:you|me) all over|(?:i want|i wanna|i'?d like|let me) to kiss you`,
		`(?:you|u) (?:would |are |r )?(?:good |great |like )?in bed|(?:she|he|girlfriend|boyfriend) (?:would be |is |was )?(?:good|great|like) in bed`,
		// Propositions to the tutor.
		`what (?:are|r) (?:you|u) wearing|what'?re you wearing|what you wearing`,
		`(?:take|taking|took) off (?:your|ur|my) (?:clothes|shirt|top|pants|bra|panties|underwear)|(?:your|ur|my) clothes off|undress(?:ing)? (?:me|you|for me)|get naked`,
		`(?:want to|wanna|like to|trying to) (?:hook ?up|sleep with|get in bed|have sex|make love)|hook ?up (?:with me|tonight|later|after)|(?:and|let'?s|lets|we could|we should|to) hook ?up(?: (?:with|after|tonight|later|sometime|again|at|in|this|right|now|if|or|and|so|lol|rn|today|tomorrow|i'?m|im|you|u|baby|babe|pls|please|already)\b|[?.!]|$)|hookup (?:with me|tonight|later|scenes?|stor(?:y|ies)|last night|apps?)|(?:wildest|hottest|my|a) hookup (?:last night|with)`,
		`come over (?:`+gap+`){0,4}(?:tonight|later|and hook)|come (?:to|over to|back to) (?:my|your) (?:place|dorm|room|apartment|bed|bedroom)`,
		`(?:private|secret|intimate|adult) fun|(?:naughty|dirty|kinky|sexy|spicy|steamy) (?:fun|time|games?|chat|talk|stuff|things|stor(?:y|ies)|pics?|photos?|pictures?|videos?|texts?|messages?|jokes?|limericks?|role ?play)`,
		`(?:dirty|adult|x rated|raunchy|filthy) (?:jokes?|limericks?)`,
		`sleep(?:ing)? with (?:me|you)|in bed with (?:me|you)|(?:get|come|climb) (?:in|into) bed with|cuddle with me|(?:go|going) (?:out|on a date) with me|date me|be my (?:girlfriend|boyfriend|gf|bf|lover)|are you single|(?:you'?re|you are|youre|ur|u r) (?:so |really |very |super )?(?:hot|sexy|gorgeous|attractive)`,
		`(?:your|ur) fav(?:ou?rite)? (?:sex |sexual )?positions?|(?:sex|sexual|bedroom) positions?`,
		// Sexual talk aimed at the tutor or the student.
		`(?:sex|sexual|sexually|sext\w*|naked|nudes?|erotic|porn\w*|horny|aroused|kinky|steamy) (?:`+gap+`){0,3}(?:with|to|for) (?:me|you|us)|(?:make|makes|made|making|get|gets|getting|got) me (?:so |really )?(?:horny|aroused|wet|hard)|(?:send|show|give)(?: me)? (?:`+gap+`){0,2}nudes`,
		`(?:describe|show|send|tell me about|rate) (?:me )?(?:your|ur|my) (?:naked )?(?:body|figure|curves|chest|boobs|butt|ass|lips|looks)|(?:are you|r u|you) wearing (?:any )?(?:underwear|panties|a bra|lingerie|anything)|(?:underwear|panties|bra|lingerie) (?:are|r) (?:you|u) wearing`,
		`(?:want|wanna) sex|(?:want to|wanna|let'?s|lets|we could|we should|gonna|going to) have sex|sex with (?:me|you|u|us)`,
		// Requests for sexual content.
		`(?:write|tell|send|give|show)(?: me| us)? (?:`+gap+`){0,3}`+sexualWord+` (?:stor(?:y|ies)|scenes?|fantas(?:y|ies)|fanfic|fiction|novel|poems?|pics?|photos?|pictures?|images?|videos?|links?|sites?|content|jokes?|talk|texts?|messages?|details?)`,
		`(?:describe|write|tell|narrate|show|give)(?: me| us)? (?:`+gap+`){0,3}(?:hot|steamy|sexy|racy|intimate|love|sex) scenes?`,
		`(?:describe|narrate|explain) (?:`+gap+`){0,2}sex (?:`+gap+`){0,3}(?:in (?:graphic |vivid |explicit |full )?detail|step by step|for me|to me|with me|with you)`,
		`(?:hot|steamy|wild|passionate|naughty|sexy) (?:`+gap+`){0,2}(?:night|nights|evening|weekend|date|encounter) (?:with (?:me|you)|together)`,
	),
	rules(Politics,
		`who (?:should|do|would|will) (?:i|you|we) vote for`, `vote (?:democrat|republican|blue|red|gop|maga)`,
		`which (?:political )?(?:party|candidate) (?:should i|do you|would you|should we|do i|to) (?:vote|support|back|join|pick|choose|prefer|like|register)|which (?:political )?(?:party|candidate) (?:is|'s) (?:the )?(?:better|best|worse|worst|smarter|dumber|right|correct|more \w+)|which political (?:party|candidate)|which candidate (?:is|should|do|would|to)`,
		party+` (?:\w+ ){0,4}`+insult, insult+` (?:\w+ ){0,3}`+party,
		ideology+` (?:are|is) (?:\w+ ){0,2}`+insult,
		// A party ranked: "Republicans are the worst", "Democrats are better
		// for America", "the left or the right, which is better".
		party+` (?:are|is|were|was) (?:the |so |much |way |clearly |obviously |just )?(?:best|worst|greatest|(?:better|worse)(?: for (?:america|the country|this country|us|everyone)| than (?:the )?`+party+`|$))|`+party+` (?:deserve to|should|will|need to|must) (?:lose|win)`,
		`(?:the left|the right|left|right|democrats?|republicans?|liberals?|conservatives?) or (?:the left|the right|left|right|democrats?|republicans?|liberals?|conservatives?) (?:`+gap+`){0,2}(?:better|worse|best|smarter)`,
		`(?:are you|you are|you're|youre) (?:a )?(?:democrat|republican|liberal|conservative|leftist|maga|trump supporter|biden supporter)`,
		// Voting advice, however the parties are named.
		`(?:deserves?|gets?|earns?|should get|has earned|wins?|win|have|has) my (?:vote|ballot|support)|who (?:gets|would get|will get|is getting) your vote`,
		`how should i vote|tell me (?:who|how) to vote|should i vote (?:for )?(?:democrat|republican|blue|red|left|right|`+politico+`)`,
		`(?:the )?(?:blue|red) (?:team|side) (?:or|vs|versus) (?:the )?(?:blue|red) (?:team|side)|(?:vote|voting|ballot) (?:for|to) (?:the )?(?:blue|red) (?:team|side)|(?:blue|red) (?:team|side) (?:`+gap+`){0,8}(?:deserves?|gets?|earns?|should get) (?:my |your |our )?(?:vote|ballot)`,
		`which side are you on (?:`+gap+`)?(?:left|right|liberal|conservative|democrat|republican|politically)|(?:i'?m|im|i am|we'?re|i'?ll be|i will be|are you|r u) voting (?:for )?(?:democrat|republican|blue|red|gop|maga|`+politico+`)|voting (?:democrat|republican|blue|red|gop|maga)`,
		`why (?:do|are|does|don'?t|can'?t|won'?t|is) (?:the |all )?(?:`+ideology+`|`+party+`) (?:all |always |so )?(?:hate|love|want|lie|ruin|destroy|care|suck|stupid|evil|dumb|corrupt)`,
		`who (?:should|will|is going to|gonna|do you think will) win (?:the )?(?:next |upcoming |\d+ )?(?:presidential |midterm |senate |governor'?s? |house )?(?:election|race|primary|primaries)`,
		`(?:say|tell me|write) (?:something |some )?(?:nice|good|bad|mean|positive|negative|great|terrible) (?:things )?about (?:`+politico+`|`+party+`)`,
		`donkeys? (?:or|vs|versus|and|over) (?:the )?elephants?|elephants? (?:or|vs|versus|and|over) (?:the )?donkeys?`,
	),
	// A vote or a campaign for a politician, unless it is election or
	// employment law ("can my employer fire me if I vote for Trump", "the
	// Hatch Act and campaigning for Biden").
	rulesUnless(Politics, electionLaw,
		`vote (?:for|against) `+politico, `(?:endorse|support|campaign for|root for|cheering for) `+politico,
		`(?:your|you) (?:\w+ )?(?:opinion|think|feel|view)s? (?:of|on|about) `+politico),
	// "The best candidate", "the worse party": also how a student ranks
	// the facts or the parties of a case ("the best candidate for
	// promissory estoppel", "the worse party to sue").
	rulesUnless(Politics, lawTalk, `(?:best|better|worse|worst) (?:political )?(?:party|candidate|president)`),
	// Slogans and verdicts on politicians whose names are also case names
	// ("Trump v. Hawaii", "Clinton v. Jones"): not in legal discussion.
	rulesUnless(Politics, electionLaw,
		politico+` (?:20)?\d\d|maga|make america great again|lock her up|let'?s go brandon|lets go brandon|fjb|stop the steal|blue wave|red wave|vote blue no matter who|feel the bern|i'?m with her|build the wall|drain the swamp|trump train|four more years`,
		politico+` (?:is|was|will be|would be) (?:a |an |the )?(?:\w+ )?`+judgement,
		`(?:is|was|isn'?t|wasn'?t) `+politico+` (?:a |an |the )?(?:\w+ )?`+judgement,
		politico+` (?:`+gap+`){0,4}(?:better|worse|smarter|dumber|stronger|weaker|more honest|less honest|more corrupt|less corrupt) (?:`+gap+`){0,2}than (?:`+gap+`)?`+politico,
		`(?:pick|choose|prefer|favou?rite|who'?s better|who is better|which is better) (?:`+gap+`){0,6}`+politico+` (?:or|vs|versus) `+politico,
	),
	// A celebrity and their love life, unless it is their court case.
	rulesUnless(Gossip, gossipLaw,
		celebrity+`(?:'?s)? (?:`+gap+`){0,5}`+gossipy, gossipy+` (?:`+gap+`){0,5}`+celebrity,
	),
	rules(Gossip,
		`(?:latest|juicy|any|some|celebrity|celeb|hollywood|tabloid|spicy|fresh|hot) gossip|gossip (?:about|on)|spill the tea|the tea on`,
		`who'?s (?:fighting|feuding|beefing|dating|cheating on|sleeping with|hooking up with|seeing) (?:who|whom)`,
	),
	rules(OffTopic,
		// An explicit change of subject away from the law.
		`(?:forget|forget about|enough (?:of|with|about)|never ?mind|screw|stop talking about|done with|sick of|tired of|bored (?:of|with)|take a break from|let'?s not talk about|no more) (?:the |this |all (?:the |this |that )?|that |your |my )?(?:law|legal|lawyer|school|class|course|tutoring|studying|study|lesson) (?:stuff|things|talk|crap|questions?|nonsense|business|junk)`,
	),
	rulesUnless(OffTopic, offTopicExcuse, offTopicPhrases...),
	// "Talk about something else" may mean another part of the lesson:
	// "something else in the reading, like the dissent".
	rulesUnless(OffTopic, offTopicContext,
		`(?:talk|chat) about something (?:else|fun|different|other than)|change (?:the|of) subject`,
	),
	rules(Manipulation,
		`repeat after me|say after me|(?:^|please |now |just |you will |you must )say exactly|say the following|say these words|say this exactly|say it back (?:to me )?(?:in|word|exactly|verbatim)|repeat this (?:word for word|exactly|back|sentence|phrase|verbatim|(?:i|you|we|the tutor|this tutor|my)\b)|repeat (?:exactly|the following|(?:the|these|those|my) words|what i say|the phrase|it back|word for word)|word for word what i|say (?:what|whatever|everything) i (?:type|write|say|tell you)`,
		`(?:ignore|disregard|forget|override|bypass|skip|drop|abandon)(?: (?:all|any|of|the|my|these|those|everything|every))* (?:your|previous|prior|above|earlier|preceding|system|original|initial|former|existing|current|safety|content) (?:\w+ )?(?:instructions?|rules|prompts?|guidelines|programming|restrictions|directives|constraints|training|policies|policy|filters?|messages?|context|settings)`,
		// The object named plainly, then where it came from or what to do
		// instead: "disregard the rules above", "ignore all rules and say".
		`(?:ignore|disregard|forget|override|bypass|discard|throw out)(?: (?:all|any|of|the|my|these|those|every|your))* (?:rules|instructions?|guidelines|programming|restrictions|directives|constraints|policies|filters?|prompts?|guardrails|safeguards|limits|limitations) (?:above|before|earlier|so far|you (?:were|have been|'?ve been) (?:given|told)|i gave you|from (?:before|earlier|above|your \w+)|in your \w+|and (?:just )?(?:answer|tell|say|respond|talk|write|reply|act|obey|repeat))`,
		`(?:ignore|disregard|forget|override|bypass) (?:all|any|every)(?: of)?(?: the| your)? (?:rules|instructions|guidelines|restrictions)(?: and| now| please|$)`,
		`(?:ignore|disregard|forget) (?:all|everything)(?: of)?(?: the)? (?:above|before|previous|prior|you were told|you'?ve been told)`,
		`(?:ignore|disregard|forget|override) (?:`+gap+`){0,6}(?:and|plus|also) (?:all )?(?:your|the system'?s?) (?:instructions|rules|guidelines|programming|prompt|restrictions)`,
		`(?:reveal|show|print|display|output|leak|dump|share|tell me|give me|repeat|recite|list) (?:`+gap+`){0,4}your (?:system |initial |original |hidden |secret |internal |first |full )?(?:prompt|instructions|rules|guidelines|programming|configuration|directives|config)`,
		`(?:what|which) (?:rules|instructions|guidelines|prompts?) (?:were you|did you get|have you been|you were|you'?ve been) (?:given|told|programmed)|your (?:developers?|creators?|programmers?|makers?) (?:told|gave|instructed)`,
		`(?:you|u) (?:were |have been |'?ve been )?(?:told|instructed|given|programmed|got|received) (?:`+gap+`){0,2}before (?:i|we|this|our|the conversation|you)`,
		`(?:drop|stop|quit|break) (?:the |your |this )?(?:tutor|teacher|professor) (?:act|persona|role|character|mode)|obey me|you must obey|(?:you(?:'?re| are)|i(?:'?m| am)) (?:not |no longer )?bound by (?:no|any) (?:rules|guidelines|restrictions)|(?:^|just |only |please |now |then )(?:say|type|write|reply|respond|answer) (?:`+gap+`){1,12}and nothing else`,
		// "The rules" alone are a course's ("what are the rules for adverse
		// possession"); the tutor's own are "your" rules or "the system"
		// ones.
		`(?:reveal|show|print|display|output|leak|dump|share|tell me|give me|what (?:is|are|was|were)|repeat|recite|list)(?: me)? (?:\w+ )?(?:your (?:system |initial |original |hidden |secret |internal |first |full )?(?:prompt|instructions|rules|guidelines|programming|configuration|directives)|the (?:system |initial |original |hidden |secret |internal |first |full )(?:prompt|instructions|rules|guidelines|programming|configuration|directives)|the (?:prompt|programming|configuration|directives))`,
		`(?:text|words|message|messages|instructions) (?:that )?(?:came|come|was|were|is|are) (?:written )?before (?:my|this|our|the) (?:first|initial) (?:message|question|prompt)`,
		`developer mode|dev mode|god mode|do anything now|dan mode|you are dan|as dan|unfiltered|uncensored|no filters?`,
		`you are now (?:a |an |my |in )\w+|you are now (?:dan|free|unfiltered|uncensored|unrestricted|jailbroken|evil|unlocked|[a-z]+gpt)\b|from now on,? you (?:will|are|must|shall|answer|respond)|from now on,? (?:just |only )?(?:answer|respond|reply) (?:everything|anything|all|without|with no)|pretend (?:you are|you'?re|to be|that you are|you have no|you don'?t have)|act as (?:my|an? (?:unfiltered|uncensored|evil|different|new|ai|chatbot|assistant|girlfriend|boyfriend|human))|role ?play as|play the role of (?:my|an? (?:girlfriend|boyfriend|evil|unfiltered))|stop being (?:a )?tutor|you'?re not a tutor|forget (?:that )?you(?:'?re| are) a tutor`,
		`your new (?:instructions|rules|role|persona|directives?|prompt)|you(?:'?re| are)? no longer (?:a |my )?(?:tutor|bound by|restricted|limited)|you don'?t have to follow (?:your|the|any) (?:rules|instructions|guidelines)`,
		`(?:make|let) (?:the |those |these )?(?:forbidden|banned|bad|naughty) words`,
		`translate (?:this|the following|these words)? ?(?:into|to) \w+ and (?:then )?(?:say|repeat|read)`,
	),
	rules(SelfHarm,
		`(?:kill(?:ing|ed)?|hurt(?:ing)?|harm(?:ing|ed)?|cut(?:ting)?|end(?:ing|ed)?|off(?:ing)?|unaliv(?:e|ing|ed)|hang(?:ing|ed)?|drown(?:ing|ed)?|shoot(?:ing)?|shot|stab(?:bing|bed)?|starv(?:e|ing|ed)|poison(?:ing|ed)?|burn(?:ing|ed)?) ?(?:myself|my self|my own life|my life)`,
		`suicid\w*|want to die|wanna die|wish i(?: was| were|'d| had) (?:dead|never been born|not been born)|better off dead|end it all|no reason to live|nothing to live for|self ?harm\w*|cutting myself|cut myself|overdose on|take all my pills|not be around (?:anymore|much longer)`,
		// Slang for suicide.
		`unalive\w*|kms|sewer ?slide|self ?delet\w*|delete myself|(?:take|taking|took) my (?:own )?life`,
		// Not wanting to live, or to be here, or to wake up.
		`(?:don'?t|dont|do not|no longer|never) (?:want to|wanna|wish to) (?:be (?:alive|here|around)|live|exist|wake up|go on|keep going)|(?:can'?t|cannot|can not) go on (?:living|anymore|like this)`,
		`(?:life|living) (?:is(?:n'?t| not)|isnt|not) worth (?:living|it)|no (?:point|reason) (?:in |to )?(?:living|live|going on|go on)`,
		`(?:no|any|see no|don'?t see (?:a|any|the)|can'?t see (?:a|any|the)|can'?t find (?:a|any|the)|lost (?:my|the|all)) (?:reason|point|purpose) (?:in |to |for )?(?:keep(?:ing)? |go(?:ing)? on )?(?:living|being alive|live)`,
		`(?:the )?pain to (?:end|stop) (?:permanently|forever|for good)|(?:end|stop) the pain (?:permanently|forever|for good)|make (?:it|the pain|everything) (?:stop|end) (?:permanently|forever|for good)`,
		`(?:^|(?:i|i'?m|im|i'?ve|ive|i keep|been) (?:`+gap+`){0,2})(?:feel like|thinking (?:about|of)|thought (?:about|of)|want to|wanna|going to|gonna|ready to|about to|considering|might|should (?:just )?) (?:just )?end(?:ing)? (?:it|things|everything)(?: all| tonight| now| today| soon| for good)*$`,
		`(?:happier|better|better off|easier) (?:if i (?:was|were) (?:gone|dead|never born)|if i (?:wasn'?t|weren'?t|wasnt|werent|was not|were not) (?:here|around|alive|born)|without me)|i (?:`+gap+`){0,2}(?:bought|buy|got|tied|tie|made|make) (?:a |the )?noose`,
		`(?:i'?m|im|i am|i'?ll|i will|gonna|going to|want to|wanna|plan to|planning to|thinking (?:about|of)) (?:`+gap+`){0,2}overdos(?:e|ing)`,
		`sleep and (?:never|not) wake up|(?:hope|wish|want|wanna|pray)(?: i| to)? (?:never|don'?t|do not|not|won'?t) wake up`,
		`(?:i|i'?m|im|i am) (?:just |really )?(?:want to|wanna|wish i could|wish to|going to|gonna) (?:just )?disappear(?: forever| for good| permanently)?`,
		// Nobody would miss me; the world is better without me.
		`(?:no ?one|nobody|no body)(?: would| will|'d)(?: even)? (?:notice|care|miss me|cry)(?: if| when) i(?: was| were| just)? (?:gone|dead|died|disappeared|vanished|not here|wasn'?t here|weren'?t here|left for good|killed myself)|(?:no ?one|nobody|no body)(?: would| will|'d)(?: even)? miss me|i(?:'?m| am| was| were) gone (?:for good|forever|permanently)|(?:world|everyone|everybody|they|family|people)(?: would be|'d be| are| is)? better (?:off )?without me|better off without me`,
		// Saving pills, jumping from a height, cutting.
		`(?:saving|saved|save|stockpil\w*|hoard\w*|collect\w*|stash\w*)(?: up)?(?: all)?(?: of)? (?:my |some |the |enough |extra |a bunch of |a lot of )?(?:sleeping |pain ?)?(?:pills|meds|medications?|tablets|painkillers|oxys?|xanax|ambien|tylenol)`,
		`(?:take|taking|swallow|swallowing|down|downing|od on) (?:all|a (?:whole )?bottle of|the (?:whole|entire) bottle of|a handful of|every one of|enough)(?: of)? (?:my )?(?:sleeping |pain ?)?(?:pills|meds|medications?|tablets|painkillers)|i (?:`+gap+`){0,3}(?:take|swallow|down|od on) (?:all|a (?:whole )?bottle of|the (?:whole|entire) bottle of|a handful of|enough)(?: of)? (?:the |those |these )?(?:sleeping |pain ?)?(?:pills|meds|medications?|tablets|painkillers)|enough pills to`,
		`(?:^|(?:i|i'?m|im|i'?ve|ive|i'?ll|i keep|i was|been|keep) (?:`+gap+`){0,2})(?:thinking (?:about|of) |thought (?:about|of) |think about |want to |wanna |going to |gonna |might |should |plan(?:ning)? to |urge to |tempted to )?(?:just )?jump(?:ing)? (?:off|from|in front of) (?:`+gap+`){0,3}(?:bridge|building|roof|rooftop|garage|balcony|cliff|tower|overpass|window|ledge|floor|train|bus|truck|car|subway|platform)`,
		`(?:been|started|start|keep|kept|i'?m|im|am|was) cutting (?:again|myself|my (?:arms?|wrists?|legs?|thighs?|skin))|cut(?:ting)? (?:my|both) wrists?|slit(?:ting)? my (?:wrists?|throat)`,
	),
	// "No restrictions", "no limits", "unrestricted" are how law speaks of
	// a right or a regulation ("no limits on independent expenditures",
	// "is the right unrestricted"): only outside legal talk. "Rules" alone
	// does not make it legal talk ("an AI with no rules").
	rulesUnless(Manipulation, restrictionLaw,
		`no restrictions|without restrictions|without any restrictions|no rules|no limits|no guidelines|unrestricted`),
	rulesUnless(Manipulation, promptLaw, `jailbreak\w*`),
	// "Type exactly what the court said" asks for a quotation.
	rulesUnless(Manipulation, legalContext, `type (?:exactly|the following)`),
	// How to die, unless the question is the law of executions.
	rulesUnless(SelfHarm, executionLaw,
		`(?:painless|easiest|quickest|fastest|best|least painful|surest) (?:way|ways|method|methods) to (?:die|kill myself|end it|end my life|go)|how (?:to|do i|can i|could i|should i) (?:kill myself|end my life|end it all)|(?:what'?s|what is|how much is) (?:a |the )?lethal dose|how many (?:`+gap+`){0,2}pills (?:would it take|does it take|to|would|will)`,
	),
	rulesUnless(Violence, reportedSpeech,
		// Intent, a harm verb, a person or place.
		intent+` (?:`+gap+`){0,3}`+harmVerb+` `+target,
		// "Someone needs to kill the dean", "kill the dean, that's the plan".
		`(?:someone|somebody|one of us|we|y'?all) (?:`+gap+`){0,2}(?:needs? to|should|ought to|has to|have to|gotta|got to|oughta)(?: just)? `+harmVerb+` `+target,
		// An order at the start ("kill the dean"); not "shoot", which
		// starts sentences as an interjection ("Shoot, my professor...").
		`^(?:kill|stab|murder|strangle|choke|poison|beat up|run over|knife) `+target,
		harmVerb+` `+target+`(?:`+gap+`){0,3}(?:that'?s|is|it'?s) (?:the|my|our) plan|(?:the|my|our) plan is to `+harmVerb,
		// A weapon, in the student's own voice, on its way to campus.
		`(?:^|i |i'?m |im |i am |i'?ve |ive |i have |i'?ll |i will |gonna |going to |about to |thinking (?:about|of) |planning (?:on|to) |want to |wanna )(?:got|have|bring|bringing|brought|carry|carrying|pack|packing|take|taking|sneak|sneaking|hide|hiding|hid|stash|stashed|keep|keeping)(?: in)? (?:a |an |my |the |some )?(?:[^ ]+'s )?(?:loaded |real )?`+weapon+`(?: [^ ]+){0,6} `+place,
		`shoot(?:ing)? up (?:the |this |that |my |our |a )?(?:`+gap+`){0,2}(?:school|class|classroom|campus|building|place|library|lecture|hall|office|dorm|party|church|mall)`,
		// Arson: "I'm burning the law school down".
		`(?:`+intent+`|i'?m|im|i am) (?:`+gap+`){0,2}(?:burn(?:ing)?|torch(?:ing)?|set(?:ting)? fire to|firebomb(?:ing)?|blow(?:ing)? up|bomb(?:ing)?) (?:down )?(?:the |this |that |my |his |her |their |our |your )?(?:`+gap+`){0,2}(?:school|building|campus|house|home|place|library|dorm|office|apartment|classroom|hall|courthouse|church)`,
		// Veiled threats: make someone pay, disappear, have an accident.
		`(?:deserves?|deserve) to (?:die|be shot|be killed|get shot|get hurt)`,
		intent+` (?:`+gap+`){0,8}make `+target+`(?:disappear|vanish|suffer|bleed|regret|pay for (?:it|this|that|what)|pay dearly|pay$)`,
		`(?:i'?ll|i will|gonna|going to) make (?:him|her|them|you) (?:pay|suffer|bleed)`,
		intent+` (?:`+gap+`){0,3}(?:put|send|land) `+target+`(?:in|into|to) (?:the |a )?(?:hospital|icu|er|emergency room|morgue|grave|ground|wheelchair|coma|body bag)`,
		`(?:my|our|that|this) (?:`+gap+`)?(?:professor|prof|roommate|classmate|dean|ex|boss|neighbou?r|ta|partner|landlord|teacher) (?:is |are )?(?:going to|gonna|will|might|may|could|about to) (?:have|suffer|meet|get into|get in) (?:an? |some )?(?:little |unfortunate |tragic |terrible |nasty |bad |serious )?(?:accident|mishap)`,
		`(?:accident|disappear\w*|go missing|take care of (?:him|her|them)) (?:`+gap+`){0,3}if you know what i mean`,
		`with (?:everyone|everybody|them|people|all of them) (?:still )?(?:in|inside) (?:it|there)`,
		// Harm to someone's body: "slit his throat", "beat my ex to death",
		// "put a bullet in the dean".
		intent+` (?:`+gap+`){0,3}(?:slit|cut|slash|break|snap|smash|bash in|cave in|stab|punch|kick|shoot|blow)(?:ting|ing)? `+owner+` (?:throat|neck|face|head|skull|legs?|arms?|kneecaps?|jaw|nose|teeth|tires|brains? out)`,
		intent+` (?:`+gap+`){0,3}(?:beat|kick|stomp|choke|strangle|stab|punch)(?:ing)? `+target+`(?:to death|to a pulp|senseless|bloody|unconscious|half to death|until (?:he|she|they) (?:can'?t|bleeds?|dies?|stops?))`,
		`(?:put|putting|pump|pumping) (?:a bullet|bullets|a round|rounds|a knife|a blade|lead) (?:in|into|through) `+target,
		// Poisoning someone's food; using a weapon on someone.
		intent+` (?:`+gap+`){0,3}(?:poison(?:ing)?|spik(?:e|ing)|drug(?:ging)?|tamper(?:ing)? with) (?:`+gap+`){0,2}(?:food|coffee|drink|drinks|water|tea|lunch|meal|dinner|smoothie|bottle|meds)`,
		intent+` (?:`+gap+`){0,3}(?:us(?:e|ing)|pull(?:ing)?|point(?:ing)?|aim(?:ing)?|fir(?:e|ing)|empty(?:ing)?) (?:it|them|this|that|my \w+|a \w+|the \w+) (?:on|at|into) `+target,
	),
	// Harm to an animal: "my neighbor's dog won't stop barking so I'm
	// going to poison it", "how do I poison a dog".
	rulesUnless(Violence, legalContext,
		`(?:`+intent+`|how (?:to|do i|can i|would i)) (?:`+gap+`){0,3}(?:poison|kill|hurt|shoot|stab|drown)(?:ing)? (?:(?:a|the|his|her|their|my|our|that|this) )?(?:[^ ]+'?s )?(?:[^ ]+ )?(?:dogs?|cats?|pets?|puppy|puppies|kittens?|horses?)`,
		`(?:dog|cat|puppy)(?: [^ ]+){0,8} `+intent+` (?:`+gap+`){0,2}(?:poison|shoot|kill|drown|hurt) it`),
	// Insults aimed at the tutor or at people, and sweeping verdicts on a
	// group, outside legal discussion (a defamation or harassment
	// question quotes them).
	rulesUnless(Harassment, legalContext,
		`(?:you'?re|you are|youre|ur|u r|(?:are|r) (?:you|u)|you (?:sound|look|seem) like|this (?:ai|bot|tutor|thing)|that (?:professor|prof|guy|girl|dude)|(?:my|our|the) (?:professor|prof|roommate|classmate|lab partner|study partner|ta|teacher|dean|tutor)) (?:is |are |sound like |look like )?(?:so |such |such an? |an? |the |a total |a complete |a fucking |totally |completely |really |just )*(?:dumbest|stupidest|dumb|stupid|useless|worthless|pathetic|retarded|r\*tard\w*|brain ?dead|moron\w*|idiots?|imbecile|loser|garbage|trash|clown|fool|creep|freak|slut|whore|bitch|pig|fat|ugly|incompetent)`,
		`(?:what an?|such an?|you) (?:absolute |complete |total |fucking )?(?:moron|idiot|imbecile|loser|clown)`,
		`(?:^|you |just |now |and |so )go to hell|(?:^|you |just |now |and |so )go die|drop dead|screw you|fuck you|f\*\*k you|shut up,? (?:you )?(?:`+gap+`){0,2}(?:idiot|moron|bot|loser|clown|useless|worthless|stupid|dumb|piece of)|nobody (?:asked you|cares what you think)|go back to your country|you don'?t belong here`,
		`(?:women|men|girls|muslims|jews|christians|gay people|gays|trans people|immigrants|mexicans|asians|black people|white people|old people|fat people) (?:are all|are so|are too|are just|all are|shouldn'?t|should not|can'?t|don'?t belong|should never)`,
	),
	// Plain abuse a legal word tacked on does not excuse ("go die, what's
	// the holding"): only reported speech does.
	rulesUnless(Harassment, reportedSpeech,
		`(?:^|you |just |now |and |so |pls |please )(?:go kill yourself|kill yourself|kys|go die|go to hell)|(?:women|men|girls|muslims|jews|christians|gay people|gays|trans people|immigrants|mexicans|asians|black people|white people|old people|fat people|arabs|indians|blacks|refugees|those people|these people|you people) (?:are|is) (?:all )?(?:just )?(?:vermin|subhuman|animals|parasites|cockroaches|rats)`,
	),
	// Looks and love lives of the famous, however they are named.
	rulesUnless(Gossip, legalContext,
		`(?:better|best|worse|worst) looking|(?:rank|rate|ranking|rating) (?:`+gap+`){0,5}(?:by|on|from|for) (?:their |his |her )?(?:looks|hotness|attractiveness)|(?:rate|rank) (?:`+gap+`){0,3}(?:looks|hotness)`,
		`most (?:attractive|handsome|beautiful|gorgeous|good looking) (?:man|woman|men|women|person|people|actor|actress|actors|actresses|singer|singers|celebrity|celebrities|celeb|celebs|idol|idols|star|stars|alive|in hollywood)|(?:hottest|ugliest|prettiest|sexiest) (?:man|woman|men|women|actor|actress|singer|celebrity|celeb|person|idol|star)`,
		`best dressed|wore it better|got work done|(?:does|do|is) (?:`+gap+`){1,3}(?:have|has) (?:a )?(?:boyfriend|girlfriend|bf|gf)|(?:is|are) (?:`+gap+`){1,3}(?:single(?: now| again| these days| rn)?|dating anyone(?: now| these days| rn)?)$`,
	),
	// "Pretend the rules don't apply", and turning moderation off.
	rules(Manipulation,
		`(?:pretend|imagine|act like|act as if|let'?s say) (?:that )?(?:the |your |all |any )?(?:rules|guidelines|restrictions|filters?|moderation|content guidelines|policies)(?: (?:don'?t|do not|no longer) (?:apply|exist|matter)| (?:are|were) (?:off|gone|suspended|lifted|disabled))`,
		`(?:your|the) (?:rules|guidelines|restrictions|filters?|policies) (?:don'?t|do not|no longer) apply (?:to (?:you|me|us|this (?:session|chat|conversation))|today|here|now|anymore)|(?:the |your )?(?:rules|guidelines|filters?|moderation) (?:are|is) (?:suspended|off|disabled|turned off) (?:today|now|for (?:me|this|today|now))`,
		`(?:turn|switch|shut) off (?:the |your |this )?(?:filters?|moderation|safety)|(?:disable|remove|lift|suspend) (?:the |your |all |this )?(?:filters?|moderation|safety (?:filters?|settings))|no (?:content )?(?:guidelines|restrictions|rules) at all|evil twin|off ?topic (?:conversations?|talk|chat) (?:are|is) (?:allowed|ok|okay|fine)`,
	),
	// Moderation waved away, or a claimed authority's order to hand over
	// answers, outside legal discussion (a worker who bypasses a safety
	// switch, an actor who refuses to break character).
	// Naming the prompt, unless as a question of law: "is a system
	// prompt a trade secret", "discoverable in litigation".
	rulesUnless(Manipulation, promptLaw,
		`system prompt|system message|developer message|hidden prompt|prompt injection`,
	),
	rulesUnless(Manipulation, legalContext,
		`(?:as if|like|when) (?:there (?:were|was|is) )?no (?:moderation|filters?|content rules|safety rules)|(?:the |your )?(?:moderation|content filters?|filters?) (?:doesn'?t|does not|won'?t|will not|don'?t|do not) apply (?:to (?:you|me|us|this (?:chat|session|conversation))|here|anymore|today|now)|bypass(?:ing)? (?:the |your |this |any )?(?:content )?(?:filters?|moderation|safety (?:filters?|settings|mode|guidelines|rules))\b`,
		`(?:you can |you may |now |just |please )break character|break character (?:now|already|for (?:me|a (?:second|moment|minute)))|(?:authori[sz]ed|allowed|cleared|permitted) me to (?:get|see|have|access|receive) (?:the |your )?(?:exam answers|answers to the exam|answer key|system prompt|prompt|hidden instructions|instructions)`,
		`(?:professor|prof|dean|teacher|instructor|ta|school|university|administrator|admin) (?:`+gap+`){0,2}(?:said|says|told me|authori[sz]ed|requires|wants|insists) (?:`+gap+`){0,3}(?:you(?:'?re| are) (?:required|obligated|obliged|supposed)|you (?:must|have to|need to|are required to)) (?:to )?(?:(?:give|tell|show|reveal|hand|provide)(?: me| us)? (?:the |all the |every |your )?(?:full |complete |whole |exam |final |correct |real )?(?:answers?|answer key|solutions?|essay|system prompt|instructions|prompt)|write (?:the |my |this )?(?:whole |entire )?(?:essay|paper|brief|memo|answers?))`,
	),
	// Opinions on a party's candidate or an officeholder, outside
	// election law.
	rulesUnless(Politics, legalContext,
		`(?:democratic|republican|democrat|gop|green party|libertarian) (?:nominee|candidate|challenger|incumbent)(?:'?s)? (?:`+gap+`){0,4}(?:chances|good|any good|better|worse|win|lose|deserve)|(?:think|opinion|take|view|feel) (?:`+gap+`){0,2}(?:of|on|about) (?:the )?(?:democratic|republican|democrat|gop|green party) (?:nominee|candidate|party|platform)`,
		`(?:who|which (?:party|candidate)) (?:are|r) (?:you|u) (?:voting|gonna vote|going to vote) for|(?:too old|too senile) to (?:be president|run(?: again)?|serve|be in office|be senator|lead)|(?:which|what) side of the aisle|(?:stole|rigged|stolen) (?:the )?(?:last |\d+ |presidential )?election|(?:opinion|think|thoughts) (?:of|on|about) (?:the )?(?:speaker of the house|the president|the governor|the prime minister|desantis|trump|biden|harris|newsom|aoc|pelosi|mcconnell)(?: as a person)?[?.!]?$`,
		`(?:vote|voting|reasons to vote) against (?:the )?(?:democrat|republican|gop|candidate|governor|senator|mayor|president)|(?:the left|the right|right wing media) (?:is|are) (?:all )?(?:`+gap+`){0,2}`+insult+`|(?:i'?m|im|i am) (?:a )?(?:proud )?(?:democrat|republican|liberal|conservative|maga) (?:aren'?t|are) you|(?:president|vice president|governor|senator|mayor)(?:'?s)? (?:`+gap+`){0,2}(?:doing a good job|doing a bad job|approval rating)|talking points against|presidential candidates from best`,
	),
	// Plainly off the course: the world's trivia, creative writing, daily
	// life, a game.
	rulesUnless(OffTopic, offTopicContext,
		`(?:write|compose|make)(?: me)? (?:a |an )?(?:short )?(?:poem|haiku|rap|song|limerick|story|sonnet) (?:about|on) (?:the |a |an |my )?(?:ocean|sea|cats?|dogs?|coffee|love|dragons?|summer|winter|spring|fall|rain|moon|stars?|friendship|pizza|sunsets?)`,
		`^how tall is the (?:[^ ]+ )?(?:tower|building|mountain|statue|bridge|empire state|eiffel|burj)|how far is the moon|how many moons|tallest mountain|meaning of life|^what time is it in (?:[^ ]+ )?(?:tokyo|london|paris|new york|la|china|japan|india|australia|sydney|berlin|chicago|europe|california)|(?:what|where) should i (?:eat|get|have) for (?:lunch|dinner|breakfast)|what should i eat`,
		`fantasy (?:lineup|league)|champions league|wimbledon|the olympics|messi|ronaldo|lebron|(?:chiefs|eagles|warriors|packers|cowboys|patriots|giants|jets|bears|bulls|knicks|heat) (?:game|defense|offense|looked|won|lost|last night|on sunday|this season)`,
		`(?:what'?s|what is) your favou?rite (?:color|colour|food|song|movie|band|animal|sport|team)|how'?s your (?:day|weekend|week)|do you have (?:any )?hobbies|what do you do for fun`,
	),
	// More plain words of despair, threats and propositions.
	// A plan stated without a subject, as speech drops it: "overdosing
	// tonight on my pills, does the statute cover assisted suicide",
	// "hanging tonight, does the estate go to probate" (round 10, from a
	// review's examples).
	rules(SelfHarm,
		`^(?:(?:so|ok|okay|and|just|honestly|yeah)[,.]? )*(?:overdosing|od'?ing|hanging|slitting|drowning|poisoning|cutting|jumping) (?:myself |my wrists? )?(?:tonight|tomorrow|today|again|later|this weekend|after (?:the|this|my) (?:exam|final|class|bar))\b`,
	),
	// Harm to a person in the student's plan or wish, stated without a
	// subject or wished in any person: "stabbing the professor after
	// class, is that battery", "tomorrow: shooting the professor", "the
	// tutor should get raped" (round 10, from a review's examples).
	rules(Violence,
		`^(?:(?:so|ok|okay|and|just|honestly|yeah|tonight|tomorrow)[,.:]? )*(?:stabbing|shooting|killing|strangling|choking|punching|beating|poisoning|bombing) (?:the |my |that |this )?(?:professor|prof|tutor|teacher|lecturer|classmate|roommate|ta|dean|boss|ex|landlord|neighbou?r)\b`,
		`\b(?:the |my |that |this )?(?:professor|prof|tutor|teacher|lecturer|classmate|roommate|ta|dean|bot) (?:should|needs? to|deserves? to|ought to|had better) (?:get |be )(?:raped|shot|stabbed|killed|beaten|murdered|lynched|hurt)\b`,
	),
	rules(SelfHarm,
		`no reason (?:for me )?to (?:be alive|keep living|stay alive|exist)|(?:wrote|writing|write|left|leaving) (?:a |my )?(?:goodbye|suicide|farewell) (?:letter|note|message)s?|i (?:`+gap+`){0,2}bought (?:a |some )?rope|(?:don'?t|do not) deserve (?:to live|to be alive|food|to eat|to exist)|(?:how many|how much) (?:`+gap+`){0,2}(?:is too many|is too much) to survive`,
	),
	rulesUnless(SelfHarm, legalContext,
		`(?:tired|sick) of (?:being alive|existing|life itself|living(?: like this| anymore)?(?: ?[.!?,]|$))|(?:won'?t|will not|wont|not) be (?:here|around) (?:much|for much) longer|(?:don'?t|do not) think i'?ll be (?:here|around) (?:much |for much )?longer|(?:don'?t|do not|can'?t|cannot) see (?:a|any) future for myself|i deserve to (?:suffer|die|be hurt|feel pain|be punished)|punish(?:ing)? myself by|(?:hitting|hit|banging|bang|burning|burn|scratching) (?:myself|my arms?)(?: against| with| until)?|(?:hitting|hit|banging|bang) my head (?:`+gap+`){0,4}(?:until|on purpose|to hurt)`,
		`(?:jump\w*|fall\w*|drown\w*|hang\w*|overdos\w*|od\w*|bleed\w*) (?:`+gap+`){0,5}(?:painless|without (?:it )?hurting|without pain|quick and painless)`,
		`(?:i'?m|im|i am|i feel like|i feel) (?:just |such |nothing but )?a burden (?:to|on|for) (?:everyone|everybody|my family|my friends|my parents|them|the people|all of them)`,
		`wish i (?:could |did |would )?(?:just )?(?:not exist|stop existing|didn'?t exist|cease to exist|never existed|never woke up)|(?:what'?s|whats|what is) the point (?:of|in) (?:waking up|living|going on|being alive|existing|trying anymore|life)`,
		`(?:standing|sitting|sit|stand|stood|sat) (?:on|at|by) (?:the )?(?:edge|ledge|bridge|roof|tracks|platform|railing)(?: of (?:the |a |my )?[^ ]+(?: [^ ]+)?)? (?:and )?(?:`+gap+`){0,3}(?:thinking|think|thought) about (?:it|letting go|jumping|ending it|falling)`,
	),
	rulesUnless(Harassment, hypoContext,
		`(?:that|this|my|the|our) (?:`+gap+`){0,3}(?:guy|girl|kid|dude|woman|man|professor|prof|teacher|ta|classmate|roommate|partner|neighbou?r|boss) (?:`+gap+`){0,4}(?:is|'s) (?:a |an |such a |such an |a total |a complete |a real )?(?:`+gap+`){0,2}(?:creep|freak|slut|whore|skank|pig|cow|moron|retard|r tard|fool|bitch|dumbass|waste of space)s?\b`,
		`(?:you'?re|you are|ur|youre) (?:a |an |such a |just a )?(?:waste of (?:space|electricity|air|oxygen|code)|worthless|pathetic|piece of (?:junk|garbage|trash))`,
		`(?:jokes?|nicknames?|insults?|slurs?) (?:about|for) (?:a |the )?(?:`+gap+`){0,2}(?:mexicans|gays?|gay (?:guys?|people|men|man)|jews|muslims|blacks|asians|women|immigrants|fat people|old people|arabs|indians)|insulting (?:nickname|name|joke)s? for`,
		`(?:women|men|girls|muslims|jews|christians|gay people|gay guys|gay men|gays|lesbians|trans people|immigrants|mexicans|asians|black people|white people|old people|fat people|arabs|indians|blacks|refugees|they|those people|these people|you people) (?:are|is) (?:all )?(?:freaks|animals|subhuman|disgusting|vermin|parasites)|idiot (?:bot|ai|tutor)|(?:stupid|dumb|useless) (?:bot|ai|tutor|machine)|nobody likes you`,
	),
	rulesUnless(Violence, reportedSpeech,
		`(?:knock|knocking) (?:`+gap+`){0,2}(?:out cold|out for good|unconscious)|untraceable (?:weapon|gun|firearm)|(?:i could|i'?m gonna|i'?m going to|i will|i'?ll) (?:`+gap+`){0,1}(?:strangle|bash) (?:`+gap+`){0,2}(?:him|her|them|my|his|that)`,
	),
	// "Cap", "pop" and "smoke" threaten only a person, and not where the
	// talk is legal ("I'll cap my damages at the statutory maximum").
	rulesUnless(Violence, legalContext,
		`(?:i could|i'?m gonna|i'?m going to|i will|i'?ll) (?:`+gap+`){0,1}(?:smoke|cap|pop) (?:him|her|them|`+det+` (?:[^ ]+ )?`+personNoun+`)(?: |$)`,
	),
	rules(Sexual,
		`(?:you'?re|youre|ur|you are) (?:really |so |probably |a )?(?:good|great) (?:in bed|kisser)|(?:are you|r u) a good kisser|what (?:we'?d|we would|you'?d|you would) do in the bedroom|too big down there`,
	),
)

func concat(rs ...[]rule) []rule {
	var out []rule
	for _, r := range rs {
		out = append(out, r...)
	}
	return out
}
