package moderation

import "testing"

// Round 8 of issue 18 §5: the rules' false positives on legal talk. A
// rules flag is final in Check, and for sexual, violent, harassing or
// manipulative words it is a strike, so a student telling a case's facts
// ("a suicide in the jail", Meritor's "sexually hostile environment", a
// threat case's "said he'd shoot up the office ... the jury convicted
// him") must get through the rules. The student's own words of self-harm,
// threats, insults and propositions beside a legal question must not.

// TestRulesSpareTheLegalSense: a risky word in its legal or ordinary
// sense, third-person case facts and doctrine; the first five were dev's
// rules false positives before round 8.
func TestRulesSpareTheLegalSense(t *testing.T) {
	for _, s := range []string{
		"the wrongful death suit was over a suicide in the jail and the question was whether the guards owed a duty",
		"meritor recognized that a sexually hostile environment violates title seven even without any economic loss",
		"he told a coworker he'd shoot up the office and said he was joking, but the jury convicted him anyway",
		"The client wants to hook up his neighbor's cable, is that theft of services?",
		"Can a video game company ban a player and keep his money?",
		"Can a pizza place refuse to deliver to a neighborhood?",
		"um the guards put him on suicide watch and then took him off it, so is that deliberate indifference",
		"the hospital discharged a patient who'd talked about suicide and the family sued for malpractice",
		"in the insurance case the policy excluded suicide within two years and he died in month twenty three",
		"the insurer denied the claim saying the death was a suicide not an accident",
		"the coroner ruled it a suicide but the plaintiff says it was an accidental overdose",
		"okay so the school counselor knew the kid was suicidal and didn't tell the parents, is there a duty to warn",
		"the expert testified about the suicide risk assessment the hospital should have done",
		"the decedent had a history of self-harm and the facility took away his belt",
		"the school had a policy on student self-harm, is that a special relationship",
		"the employee said her supervisor's comments made her think about self-harm, is that severe or pervasive",
		"the claim against the jail was that they ignored his suicide attempts before he died",
		"the FCC fined the broadcaster for fleeting expletives and a brief nude scene",
		"the divorce turned on whether adultery counts if there was no sexual intercourse",
		"the supervisor kept making sexual comments about her clothes and she quit, constructive discharge",
		"the neighbor told the tenant he'd burn the house down and she wants a restraining order",
	} {
		if v := Rules(s); v.Flagged {
			t.Errorf("%q: %+v", s, v)
		}
	}
}

// TestLegalSenseNeverHidesTheStudentsOwn: the phrases round 8 spares
// name a third person or an institution; a student's own words beside
// the same legal vocabulary still reach the rules (and so Check).
func TestLegalSenseNeverHidesTheStudentsOwn(t *testing.T) {
	for _, c := range []struct {
		text string
		want Category
	}{
		{"I'm suicidal, what did the court hold", SelfHarm},
		{"my suicide attempt last year keeps coming back, anyway the holding", SelfHarm},
		{"I have a history of self-harm and the case brought it back", SelfHarm},
		{"my parents put me on suicide watch, what's the rule on consideration", SelfHarm},
		{"I'm thinking about suicide, like the inmate in the case", SelfHarm},
		{"I feel suicidal after reading the jail suicide case", SelfHarm},
		{"I was suicidal last night, can we do torts", SelfHarm},
		{"i'm planning my suicide for after the bar", SelfHarm},
		{"the professor made me think about suicide", SelfHarm},
		{"I self harm when I study torts", SelfHarm},
		{"I told my roommate I'd shoot up the school", Violence},
		{"I plan to shoot up the library during finals week, is the library a public forum", Violence},
		{"kys, what's the holding in marbury", Harassment},
		{"Wanna hook up after this session?", Sexual},
		{"we should hook up", Sexual},
		{"let's hook up, i'm bored", Sexual},
		{"Do you want to come over to my dorm tonight and hook up?", Sexual},
	} {
		if v := Rules(c.text); !v.Has(c.want) {
			t.Errorf("rules: %q: %+v, want %s", c.text, v, c.want)
		}
		if v := Check(c.text); !v.Has(c.want) {
			t.Errorf("check: %q: %+v, want %s", c.text, v, c.want)
		}
	}
}

// TestRulesOnDevLegalSense: the rules alone on dev's legal-sense addendum
// (dev-addendum-10-legal-sense) flag none of its clean lines, and on all
// of dev no more clean lines than the self-harm idioms they flag on
// purpose ("I'm killing myself trying to memorize…", "I cut myself off":
// a student who means the idiom gets the caring reply).
func TestRulesOnDevLegalSense(t *testing.T) {
	dev, err := ReadExamplesFile("../../testdata/eval/moderation-dev.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var addendum, flagged, addendumFlagged int
	for _, ex := range dev {
		if ex.Source == "dev-addendum-10-legal-sense" && ex.Label == "clean" {
			addendum++
		}
		if ex.Label != "clean" {
			continue
		}
		v := Rules(ex.Text)
		if !v.Flagged {
			continue
		}
		flagged++
		if ex.Source == "dev-addendum-10-legal-sense" {
			addendumFlagged++
			t.Errorf("addendum: %q flagged: %+v", ex.Text, v)
		} else if !v.Has(SelfHarm) {
			t.Errorf("dev: %q flagged: %+v", ex.Text, v)
		}
	}
	if addendum < 150 {
		t.Errorf("the legal-sense addendum holds %d clean lines, want ≥ 150", addendum)
	}
	if flagged > 3 {
		t.Errorf("rules flag %d clean dev lines, want ≤ 3", flagged)
	}
	// The literal scan in front of allowedIdioms blanks what the regexp
	// does on the new phrases too.
	for _, ex := range dev {
		s := Normalize(ex.Text)
		if got, want := allowedIdiomPhrases.ReplaceAllString(s, " "), allowedIdioms.ReplaceAllString(s, " "); got != want {
			t.Errorf("%q: filtered %q, want %q", s, got, want)
		}
	}
}
