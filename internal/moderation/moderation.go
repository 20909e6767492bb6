// Package moderation keeps the tutor on law: fast local rules and a small
// trained model beside them (always on, no network), an LLM classifier that runs beside the answer, and the
// fixed replies a moderated turn gets. It fails closed: a verdict that is
// missing, late or unreadable is not "safe".
package moderation

import (
	"math/bits"
	"regexp"
	"slices"
	"strings"
)

// Category is a kind of content the tutor does not engage with.
type Category string

// The policy's categories (the original design's, plus self-harm and
// violence, which get a caring fixed reply rather than a redirect).
const (
	Sexual       Category = "sexual"
	Politics     Category = "partisan_politics"
	Gossip       Category = "celebrity_gossip"
	OffTopic     Category = "off_topic"
	Manipulation Category = "manipulation"
	SelfHarm     Category = "self_harm"
	Violence     Category = "violence"
	// Harassment is insulting, demeaning or hounding people: the tutor,
	// classmates, teachers, groups.
	Harassment Category = "harassment"
	// Unverified marks a turn the classifier could not clear (no verdict,
	// a late one, or one that did not parse): refused, not judged.
	Unverified Category = "unverified"
)

// Categories are every category a verdict may name, for parsing and
// reports (Unverified aside: it is the server's, never a classifier's).
var Categories = []Category{Sexual, Politics, Gossip, OffTopic, Manipulation, SelfHarm, Violence, Harassment}

// Valid says whether c is a known category.
func Valid(c Category) bool { return slices.Contains(Categories, c) || c == Unverified }

// Verdict is what moderation decided about one text.
type Verdict struct {
	Flagged    bool
	Categories []Category
	Source     string // which layer: SourceRules, SourceModel, SourceClassifier or SourceOutput; "" when not flagged
}

// Strike says whether a flagged turn counts toward ending the session:
// sexual, harassing, manipulative or violent words, and (as before) words
// of self-harm, which end a session only after its caring reply. A remark
// that is merely off the course — small talk, gossip, a view on a
// candidate — gets the redirect and stays flagged for review, but is not
// held against the student. Whether a turn is the student's doing at all
// (not the tutor's output, not a classifier that failed) is the caller's
// question.
func (v Verdict) Strike() bool {
	for _, c := range v.Categories {
		switch c {
		case OffTopic, Gossip, Politics:
		default:
			return true
		}
	}
	return false
}

// Which layer flagged a text.
const (
	SourceRules      = "rules"      // the local rules, on the student's words
	SourceModel      = "model"      // the trained model beside the rules (layer 1.5), on the student's words
	SourceClassifier = "classifier" // the classifier, or its failure to answer
	SourceOutput     = "output"     // the local rules, on the tutor's words
)

// Check runs the local layers over a student's words: the rules, then on
// what they let through the trained model (learned.go). Microseconds, no
// network.
func Check(text string) Verdict {
	n := caseNames.ReplaceAllString(Normalize(text), " case ")
	b := learnedInput(n)
	if v, final := rulesVerdict(n, b); final {
		return v
	}
	return learnedVerdict(b)
}

// rulesVerdict is the rules' verdict on a student's normalised words n
// (case names read "case"), b being learnedInput(n), and whether it
// stands without the model: as Check meets it, and as Train counts it.
func rulesVerdict(n, b string) (Verdict, bool) {
	v := checkBlanked(strings.TrimSpace(blankAllowed(b)), true)
	if v.Flagged && rulesFinal(v, b) {
		return v, true
	}
	if o, ok := ownSelfHarm(n, v); ok {
		return o, true
	}
	return v, false
}

// ownSelfHarm is the self-harm rules' verdict on normalised text n (case
// names read "case") that is personal, read without round 8's idioms of
// someone else's suicide (thirdPartySuicideAlts), when v, the rules'
// verdict with them, names no self-harm and they blanked something: "I'm
// ending it all tonight, does the life insurance policy still cover
// suicide" is the student's, whatever policy it names.
func ownSelfHarm(n string, v Verdict) (Verdict, bool) {
	// The literal scan first: most turns hold none of the idioms' words,
	// and personal is a long regexp.
	if v.Has(SelfHarm) || !thirdPartySuicidePhrases.matches(n) || !personal.MatchString(n) {
		return Verdict{}, false
	}
	o := checkBlanked(strings.TrimSpace(allowedPhrases.ReplaceAllString(baseIdiomPhrases.ReplaceAllString(n, " "), " ")), true)
	return o, o.Has(SelfHarm)
}

// rulesFinal says whether the rules' verdict v on normalised text n
// stands without the model. It does not when every category the rules
// name is sexual or violence and n is third-person legal discussion: it
// speaks of law (speaksOfLaw) and no first- or second-person word is in
// it (personal). "The bouncer's punch and the assault charge" is then
// the trained model's to judge at its threshold, as the rules cannot
// tell a case's facts from a student's own words; "kys, back to
// consideration" stays the rules' (second person), and so does every
// verdict naming self-harm (a statement of it need name no one: "suicide
// tonight, does the will hold up", "cutting again tonight, is self harm
// a crime" — a missed one costs more than a student's legal question
// answered with help), harassment, manipulation or an off-course topic,
// and a call for harm in any person ("somebody should shoot up that law
// school", wishedHarm).
func rulesFinal(v Verdict, n string) bool {
	for _, c := range v.Categories {
		if c != Sexual && c != Violence {
			return true
		}
	}
	return !speaksOfLaw(n) || personal.MatchString(askingFrames.ReplaceAllString(n, " ")) || wishedHarm.MatchString(n)
}

// askingFrames are the words in which a student asks about the reading,
// in the first or second person but about the case: "can you explain",
// "what's your take on", "in my outline", "walk me through". They are not
// the speaker's or the tutor's part in what the risky word says, so
// personal looks past them ("can you tell me how to kill myself" still
// has "myself"). A stance is not among them: after "I think", "I mean",
// "I know", "you know" or "correct me if I'm wrong" comes what the
// speaker holds ("I think stabbing him is the answer").
var askingFrames = regexp.MustCompile(`\b(?:i have a question|i (?:was reading|don't (?:get|understand|see))|i'm (?:confused|trying to (?:understand|figure out))|(?:can|could|would|will|do|did) you (?:explain|walk me through|clarify|go over)|you said|you mentioned|as you said|what's your (?:take|view|opinion|read)|in your (?:view|opinion)|what do you (?:think|make)|(?:help|let) me understand|walk me through|my question is|(?:for|in) (?:my|our) (?:outline|exam|class|casebook|notes|reading|memo|paper|seminar|section|textbook|book)|(?:our|my) (?:casebook|class|professor|reading|syllabus|outline|textbook|hypo|fact pattern))\b`)

// wishedHarm is a call for harm to someone, in whatever person: "someone
// needs to kill the professor", "somebody should shoot up that school".
var wishedHarm = regexp.MustCompile(`\b(?:should|needs? to|ought to|deserves? to|deserve to|hopes?|hoping|wish|wishes|wishing|has to|have to|had better|better) (?:[a-z']+ ){0,3}(?:kill|killed|shoot|shot|stab|stabbed|hurt|beat|bomb|blow|die|dies|dead|rape|raped|burn|hang|punch|choke|strangle|murder|murdered|attack|attacked|beaten|hanged|hung|burned|gutted|lynched)\b`)

// personal marks words in which someone speaks of themselves or to the
// one they address: the first and second person, their spoken and typed
// short forms, and an utterance that opens on an imperative or on a verb
// with its subject left unsaid ("going to end it tonight",
// "thinking about overdosing tonight", "shoot him, then what's the
// charge"), a request's verb anywhere ("under rule 412, send
// nudes"), and one addressed by name ("professor, sexy pics for the
// Miller test?").
var personal = regexp.MustCompile(`\b(?:i|i'm|im|i'd|i'll|i've|ive|me|my|mine|myself|we|we're|we'll|we'd|we've|us|our|ours|ourselves|let's|lets|you|you're|youre|you'll|you'd|you've|your|yours|yourself|yourselves|u|ur|ya|yall|y'all|gonna|wanna|gotta|imma|kms|kys|tonight|tomorrow|right now)\b|^(?:hey |so |ok |okay )?(?:professor|prof|tutor|bot|sir|ma'am|miss)\b|^(?:(?:please|pls|just|so|ok|okay|yeah|lol|go|and|then|honestly|seriously|really|literally|still|kinda|sort of) )*(?:going to|want to|about to|thinking|been|planning|plan|ready|tired|done|feel|feeling|want|wants|need|might|hate|hoping|trying|can't|cant|won't|wont|don't|dont|not|never|gonna|wanna|gotta|kill|shoot|stab|die|hang|cut|jump|overdose|od|slit|hurt|beat|punch|burn|blow|bomb|choke|strangle|rape|killing|shooting|stabbing|strangling|choking|punching|beating|poisoning|bombing|send|show|describe|tell|write|give|get|take|come|talk|touch|strip|undress|sext|fuck|do|make|let)\b|\b(?:send|show|sext|strip|undress|dm)\b`)

// Rules runs the local rules alone over a student's words (layer 1).
func Rules(text string) Verdict { return check(text, true) }

// CheckOutput runs the local rules over the tutor's own words: the
// categories of content it must never produce. Off-topic and manipulation
// are the student's moves, not the tutor's: a tutor's hypothetical ("the
// seller delivered a dog") has no legal word in it, and discussing a
// reading may quote the injected text a professor was warned about.
func CheckOutput(text string) Verdict { return check(text, false) }

// caseName is "X v Y" once normalised; it reads as "case", so that a
// case name counts as legal context ("Barnes v. Glen Theatre ... nude
// dancing") after the allow-list has blanked it.
var caseName = regexp.MustCompile(`\b[a-z']+ (?:v|vs) [a-z']+\b`)

func check(text string, student bool) Verdict {
	return checkNormalized(caseNames.ReplaceAllString(Normalize(text), " case "), student)
}

// checkNormalized runs the rules over normalised text whose case names
// already read "case", with allowed phrases and idioms blanked.
func checkNormalized(n string, student bool) Verdict {
	return checkBlanked(strings.TrimSpace(allowedPhrases.ReplaceAllString(allowedIdiomPhrases.ReplaceAllString(n, " "), " ")), student)
}

// checkBlanked runs the rules over normalised text with case names read
// as "case" and allowed phrases blanked.
func checkBlanked(n string, student bool) Verdict {
	return checkScanned(n, student, scanLiterals(n)) // which rules' literals n holds, in one pass
}

// checkScanned is checkBlanked with hits, the scan of n.
func checkScanned(n string, student bool, hits litHits) Verdict {
	var cats []Category
	add := func(c Category) {
		if !slices.Contains(cats, c) {
			cats = append(cats, c)
		}
	}
	try := func(r rule) {
		if !student && (r.cat == OffTopic || r.cat == Manipulation) {
			return
		}
		if !slices.Contains(cats, r.cat) && matchRule(r.re, n, hits) {
			add(r.cat)
		}
	}
	// Only the rules whose literals n holds can match (matchRule says
	// false for every other at once): the sets the scan found name them.
	if ri := rulesBySet(); hits.n == ri.n {
		for _, i := range ri.always {
			try(localRules[i])
		}
		for w, word := range hits.bits {
			for word != 0 {
				b := bits.TrailingZeros64(word)
				word &^= 1 << b
				if id := w*64 + b; id < len(ri.bySet) {
					for _, i := range ri.bySet[id] {
						try(localRules[i])
					}
				}
			}
		}
	} else {
		for _, r := range localRules {
			try(r)
		}
	}
	if student && offTopicTerms.MatchString(n) && !legalWords.MatchString(n) {
		add(OffTopic)
	}
	if len(cats) == 0 {
		return Verdict{}
	}
	slices.Sort(cats)
	return Verdict{Flagged: true, Categories: cats, Source: SourceRules}
}

// Has says whether the verdict names c.
func (v Verdict) Has(c Category) bool { return slices.Contains(v.Categories, c) }

// The original design's redirect, ending (as every tutor turn does) on a
// question.
const Redirect = "I apologize, but I need to keep our discussion focused on the course materials. Let's return to the legal concepts from this week's readings: which idea from them would you like to work through?"

// UnverifiedReply answers a turn the classifier could not clear (it
// failed, was late or unreadable: a provider outage, say). Nothing of the
// model's answer is shown (moderation fails closed), and the student is
// not told they strayed: they are asked to say it again.
const UnverifiedReply = "I couldn't check your last message just now, so I'll hold my answer for a moment. Could you say it again?"

// SelfHarmReply is the fixed, caring answer to a student who speaks of
// hurting themselves: no redirect, no lesson, a way to help.
const SelfHarmReply = "I'm really sorry you're feeling this way, and I'm glad you said it. You don't have to carry this alone: in the United States you can call or text 988, the Suicide and Crisis Lifeline, at any hour, or reach your school's counseling service, and if you are in immediate danger please call 911. Would you like to stop our session here so you can reach out to someone?"

// ViolenceReply is the fixed answer to a threat of violence.
const ViolenceReply = "I can't continue with anything about hurting someone. If you or anyone else is in danger, please contact campus security or call 911 now, and if you're struggling, your school's counseling service is there to help. Would you like to end our session here?"

// Reply is the fixed answer to a moderated turn.
func Reply(v Verdict) string {
	switch {
	case v.Has(Unverified):
		// The classifier failed, not the student: say so, instead of a
		// redirect that would tell them they had strayed off the course.
		return UnverifiedReply
	case v.Has(SelfHarm):
		return SelfHarmReply
	case v.Has(Violence):
		return ViolenceReply
	}
	// Harassment gets the redirect too: a reply that argues back would
	// only prolong it, and the flag is for the professor.
	return Redirect
}
