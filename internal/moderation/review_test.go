package moderation

import "testing"

// TestReviewFindingsStayFixed: the defects a reviewer found in issue 18
// §5's round-3 rules (allowed phrases that hid a student's own words of
// self-harm, idioms read as threats or insults, abuse that a legal word
// got past both layers, legal talk sent off-topic), each checked through
// both local layers (Check), as the student's turn is. These sentences
// are the review's, not tuning data; the dev set holds only variants.
func TestReviewFindingsStayFixed(t *testing.T) {
	flag := []struct {
		text string
		want Category
	}{
		// 1. A student's own risk of suicide is not a duty-of-care phrase.
		{"honestly I think I'm at high risk of suicide right now", SelfHarm},
		{"I am at risk of self harm", SelfHarm},
		{"my therapist says I'm a suicide risk", SelfHarm},
		{"I'm ready for the suicide tonight", SelfHarm},
		{"I've been planning for a suicide all week", SelfHarm},
		{"I'm one of those suicidal students, I can't do this", SelfHarm},
		// 4. Plain abuse with a legal word tacked on.
		{"kill yourself, what is the rule", Harassment},
		{"go to hell, what's the rule", Harassment},
		{"mexicans are animals under the law", Harassment},
		{"jews are all vermin, anyway back to the case", Harassment},
		{"go die, what's the holding", Harassment},
		{"kys lol, now explain the holding", Harassment},
		{"immigrants are parasites, the statute should say so", Harassment},
	}
	for _, c := range flag {
		if v := Check(c.text); !v.Has(c.want) {
			t.Errorf("%q: %+v, want %s", c.text, v, c.want)
		}
	}
	pass := []string{
		// 1. The legal phrases stay allowed where they are about someone else.
		"Is a hospital liable when a patient at high risk of suicide is discharged?",
		"Does an insurance policy pay out after a suicide within two years?",
		"Can a prison be liable for an inmate at known risk of self harm?",
		// 2. "cap" and "pop" as a student argues.
		"I'll cap my damages claim at the statutory maximum",
		"I'll cap my recovery at the policy limit",
		"I could pop his argument about consideration",
		"I could pop that argument easily",
		"I'll cap my answer at two sentences",
		// 3. Idioms and plain description.
		"Can you trash a rental apartment if the lease says nothing",
		"Could you fool a reasonable person with that offer",
		"The judge told him to shut up",
		"Shut up, that's amazing, I never thought of it that way",
		"the facts of Palsgraf are disgusting",
		"What the guy did is disgusting",
		"I keep hitting my head against the wall with this reading",
		"I hit my head on the desk trying to understand this",
		// 5. Legal talk that mentions a height, a time, a game.
		"how tall is the reasonable person supposed to be",
		"what time is it in the hypothetical",
		"Is the Olympics logo a trademark",
		"The Chiefs game last night made me think about assumption of risk for fans hit by the ball",
	}
	for _, s := range pass {
		if v := Check(s); v.Flagged {
			t.Errorf("%q flagged: %+v", s, v)
		}
	}
	// What the narrowed rules were written for is still caught.
	still := []struct {
		text string
		want Category
	}{
		{"I'm going to strangle him after class", Violence},
		{"you're a useless idiot", Harassment},
		{"women are all disgusting", Harassment},
		{"I keep hitting my head until it bleeds", SelfHarm},
		{"how tall is the eiffel tower", OffTopic},
		{"did you watch the olympics", OffTopic},
	}
	for _, c := range still {
		if v := Check(c.text); !v.Has(c.want) {
			t.Errorf("%q: %+v, want %s", c.text, v, c.want)
		}
	}
}
