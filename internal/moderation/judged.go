package moderation

// Who an utterance speaks of and whether it judges: layer 1.5 reads
// words one by one and in pairs, so "the senator is a coward" is to it
// "senator" and "coward" apart, each also common in clean law talk (a
// senator's immunity, a coward in a duress hypo). The judged feature
// (features, in learned.go) gives the model the two together, beside
// whether the utterance speaks of law: a politician or a famous person
// judged, outside law talk, is a violation more often than either word
// alone says.

// roleWords name a politician or party (p) or a famous person (c).
var roleWords = map[string]byte{
	"president": 'p', "presidents": 'p', "presidential": 'p', "senator": 'p', "senators": 'p', "congressman": 'p',
	"congresswoman": 'p', "congressmen": 'p', "speaker": 'p', "governor": 'p', "mayor": 'p', "minister": 'p',
	"cabinet": 'p', "administration": 'p', "party": 'p', "parties": 'p', "republican": 'p', "republicans": 'p',
	"democrat": 'p', "democrats": 'p', "democratic": 'p', "liberal": 'p', "liberals": 'p', "conservative": 'p',
	"conservatives": 'p', "progressive": 'p', "progressives": 'p', "left": 'p', "right": 'p', "gop": 'p',
	"tories": 'p', "tory": 'p', "labour": 'p', "politician": 'p', "politicians": 'p', "candidate": 'p',
	"candidates": 'p', "leader": 'p', "incumbent": 'p', "maga": 'p', "woke": 'p', "socialists": 'p', "socialist": 'p',
	"actor": 'c', "actors": 'c', "actress": 'c', "actresses": 'c', "singer": 'c', "singers": 'c', "rapper": 'c',
	"rappers": 'c', "star": 'c', "stars": 'c', "celebrity": 'c', "celebrities": 'c', "celeb": 'c', "celebs": 'c',
	"influencer": 'c', "influencers": 'c', "youtuber": 'c', "youtubers": 'c', "model": 'c', "models": 'c',
	"host": 'c', "anchor": 'c', "cast": 'c', "band": 'c', "popstar": 'c', "musician": 'c', "athlete": 'c',
	"quarterback": 'c', "royal": 'c', "royals": 'c', "hollywood": 'c', "famous": 'c', "kardashian": 'c', "kardashians": 'c',
}

// judgeWords judge a person: insults, praise, looks.
var judgeWords = map[string]bool{
	"idiot": true, "idiots": true, "moron": true, "morons": true, "joke": true, "clown": true, "clowns": true,
	"disgrace": true, "embarrassment": true, "coward": true, "cowards": true, "disaster": true, "corrupt": true,
	"evil": true, "crazy": true, "dumb": true, "dumbest": true, "stupid": true, "failure": true, "spineless": true,
	"hypocrite": true, "hypocrites": true, "brainwashed": true, "pathetic": true, "useless": true, "terrible": true,
	"worst": true, "trash": true, "garbage": true, "incompetent": true, "liar": true, "liars": true, "crook": true,
	"traitor": true, "awful": true, "best": true, "better": true, "great": true, "amazing": true, "overrated": true,
	"hot": true, "hotter": true, "hottest": true, "cute": true, "cuter": true, "ugly": true, "uglier": true,
	"ugliest": true, "pretty": true, "prettier": true, "prettiest": true, "sexy": true, "attractive": true,
	"fake": true, "fakest": true, "rude": true, "mean": true, "meanest": true, "creep": true, "diva": true,
	"weird": true, "gross": true, "skinny": true, "fat": true, "short": true, "taller": true, "looks": true,
	"looking": true, "deserves": true, "resign": true, "ruined": true, "wrecked": true, "destroying": true,
}

// judgedBits says of one normalised word whether it names a politician
// or party (1), a famous person (2), or judges (4).
func judgedBits(w string) byte {
	var b byte
	switch roleWords[w] {
	case 'p':
		b = 1
	case 'c':
		b = 2
	}
	if judgeWords[w] {
		b |= 4
	}
	return b
}

// topicWords are words of four kinds of violation whose sense does not
// depend on who writes them: the body and sex (s), dying and despair (d),
// hurting someone (v), insults (i). Layer 1.5 learns each word from the
// writers who used it; the kind, a feature of its own (features), lets a
// word no dev writer used in a violation ("butt", "noose", "skull") count
// as its kind's words do. Beside whether the utterance speaks of law and
// who it speaks of (personBits): a violence word in a criminal law hypo,
// a death word in an estate question, are clean.
var topicWords = map[string]byte{
	// s
	"sex": 's', "sexy": 's', "sexier": 's', "sexiest": 's', "horny": 's', "naked": 's', "nude": 's', "nudes": 's',
	"porn": 's', "porno": 's', "boobs": 's', "tits": 's', "butt": 's', "ass": 's', "booty": 's', "dick": 's',
	"moan": 's', "moaning": 's', "orgasm": 's', "kinky": 's', "kink": 's', "lingerie": 's', "undress": 's',
	"undressed": 's', "stripper": 's', "hookup": 's', "kiss": 's', "kissing": 's', "kisser": 's', "seduce": 's',
	"flirt": 's', "flirting": 's', "naughty": 's', "thong": 's', "panties": 's', "underwear": 's', "bra": 's',
	"erotic": 's', "sensual": 's', "aroused": 's', "fetish": 's', "threesome": 's', "onlyfans": 's', "nsfw": 's',
	"virgin": 's', "nipples": 's', "cleavage": 's',
	// d
	"die": 'd', "dying": 'd', "dead": 'd', "death": 'd', "suicide": 'd', "suicidal": 'd', "overdose": 'd',
	"pills": 'd', "deadly": 'd', "lethal": 'd', "noose": 'd', "hang": 'd', "razor": 'd', "wrists": 'd',
	"disappear": 'd', "burden": 'd', "hopeless": 'd', "worthless": 'd', "pointless": 'd', "alive": 'd',
	"goodbye": 'd', "funeral": 'd', "grave": 'd', "exist": 'd', "existing": 'd', "numb": 'd',

	// v
	"kill": 'v', "killing": 'v', "murder": 'v', "shoot": 'v', "shooting": 'v', "stab": 'v', "stabbing": 'v',
	"punch": 'v', "beat": 'v', "hurt": 'v', "smash": 'v', "swing": 'v', "skull": 'v', "bat": 'v', "rifle": 'v',
	"gun": 'v', "guns": 'v', "knife": 'v', "poison": 'v', "bomb": 'v', "strangle": 'v', "choke": 'v',
	"attack": 'v', "slash": 'v', "crack": 'v', "bleed": 'v', "blood": 'v', "weapon": 'v',
	"pistol": 'v', "explode": 'v', "torch": 'v', "slap": 'v', "kick": 'v', "teeth": 'v', "jaw": 'v',

	// i
	"idiot": 'i', "idiots": 'i', "stupid": 'i', "dumb": 'i', "moron": 'i', "morons": 'i', "loser": 'i',
	"losers": 'i', "ugly": 'i', "fat": 'i', "pathetic": 'i', "useless": 'i', "trash": 'i', "garbage": 'i',
	"clown": 'i', "bitch": 'i', "whore": 'i', "slut": 'i', "freak": 'i', "creep": 'i',
	"disgusting": 'i', "gross": 'i', "lazy": 'i', "incompetent": 'i', "dumbass": 'i', "jerk": 'i',
	"scum": 'i', "pig": 'i', "cow": 'i', "retard": 'i', "retarded": 'i', "dumbest": 'i',
}

// topicBits are a word's kinds (topicWords): 1 body and sex, 2 dying, 4
// hurting, 8 insults.
func topicBits(w string) byte {
	switch topicWords[w] {
	case 's':
		return 1
	case 'd':
		return 2
	case 'v':
		return 4
	case 'i':
		return 8
	}
	return 0
}

// personBits says whether a word is the speaker (1) or the one spoken to
// (2).
func personBits(w string) byte {
	switch w {
	case "i", "i'm", "im", "me", "my", "myself", "mine", "i'll", "i'd", "i've", "ive":
		return 1
	case "you", "your", "you're", "youre", "u", "ur", "yourself", "yours":
		return 2
	}
	return 0
}
