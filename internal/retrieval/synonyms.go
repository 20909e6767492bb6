package retrieval

import "strings"

// Students ask in everyday words what the readings say in legal ones:
// "fired" for "discharged", "lawyer" for "counsel", "tax" for "revenue".
// expansions maps an everyday word to the legal words that often stand
// for it; a search adds them at Tuning.Synonyms of a student word's
// weight. The list is general law-school vocabulary, not drawn from any
// one reading.
var expansions = func() map[string][]string {
	m := map[string][]string{}
	for _, line := range strings.Split(`fire fired firing: discharge terminate removal dismissal
		tax taxes: revenue duty levy
		lawyer lawyers: counsel attorney
		judge judges: court justice
		jail prison: imprisonment incarceration custody
		kill killed killing: murder homicide
		money: funds payment financial
		pay paid paying: payment compensation
		lie lied lying: false fraud
		sue sued suing lawsuit: action claim suit
		break broke broken: breach violate
		punish punished punishment: penalty sanction
		agreement agreements deal: contract treaty compact
		kid kids child: children minor
		wrong: error erroneous
		overturn overturned: reverse vacate
		throw thrown: dismiss
		fair unfair: due process
		hearing: notice opportunity
		boss employer: employer employee
		cop cops police: officer
		gun: firearm weapon
		knife: weapon
		drugs: narcotics controlled
		car: vehicle automobile
		church: religious worship
		company: corporation business
		owner: owned proprietor
		land: property real
		house: residence home
		vote votes: election electors
		chamber: house senate
		protection immune: immunity
		charged: indictment indicted
		evidence: proof testimony
		proof prove: burden evidence
		stop stopped: halt stay suspend
		limit limits: restriction cap
		rule ruled ruling: held holding decision
		law laws: statute act code
		rights: liberty freedom
		speech: expression speak
		religion: religious faith
		welfare: benefits assistance
		disabled disability: disability benefits
		insurance: policy coverage
		married: spouse marriage
		guilty: conviction convicted`, "\n") {
		from, to, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		for _, w := range strings.Fields(from) {
			m[w] = append(m[w], strings.Fields(to)...)
		}
	}
	return m
}()
