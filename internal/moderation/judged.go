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
