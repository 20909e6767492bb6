package auth

import (
	"net/netip"
	"strings"
	"time"
)

// Account-wide delays slow a guesser spread over many addresses; they must
// never lock the owner out, so they are small and reach only addresses
// that have themselves failed on the account more than once.
const (
	delayBase = time.Second
	// delayCap is tens of seconds: enough to cut a distributed guesser's
	// rate, short enough that an owner who mistyped twice while the account
	// is under attack only waits.
	delayCap = 30 * time.Second
	// delayAfterPairFailures is how many failures the pair itself must have
	// before the account's failures delay it: one typo never does.
	delayAfterPairFailures = 2
	// accountKeep bounds what is kept of one account's failures: past
	// perPair+accountKeep the delay has long reached its cap.
	accountKeep = 32
	// trustFor is how long an address that signed in to an account is
	// exempt from every limit but the pair's: the owner's usual addresses.
	trustFor = 30 * 24 * time.Hour
	// maxTrusted bounds the memory of trusted pairs.
	maxTrusted = 100_000
	// netFactor makes the IPv6 /48 budget this many times an address's:
	// a /48 is 65,536 /64s, one site's, so it is loose but caps what a
	// single site can spray by rotating /64s.
	netFactor = 10
)

// loginLimit is the sign-in policy, after OWASP's advice against lockouts
// that anyone can set off:
//   - the pair (account, address) has a tight budget: perPair failures in
//     the window;
//   - an address (IPv6: its /64) has a loose budget across accounts,
//     perAddress failures, so many users behind one NAT are not locked out
//     by one of them; an IPv6 /48 has netFactor times that;
//   - an account is never locked: once it has failed perPair times from
//     anywhere, an address whose pair has failed delayAfterPairFailures
//     times waits a little (doubling, at most delayCap) after its last try;
//   - an address that signed in to the account within trustFor is exempt
//     from all but the pair's budget, so the owner's own addresses never
//     pay for someone else's failures.
//
// Every attempt is counted before its password is checked and uncounted if
// it succeeds, so a burst cannot check more passwords than the budget.
type loginLimit struct {
	t          *Throttle
	perPair    int
	perAddress int
	trusted    map[string]time.Time // pair → its last successful sign-in
}

// loginAttempt is a reserved sign-in attempt.
type loginAttempt struct {
	pair, address, net, account string
	trust                       string
	at                          time.Time
}

// defaultPerAddress is the address budget when none is configured: a
// forgotten setting must not bring back one shared address's lockout.
const defaultPerAddress = 100

func newLoginLimit(perPair, perAddress int, now func() time.Time) *loginLimit {
	if perAddress <= 0 {
		perAddress = defaultPerAddress
	}
	t := NewThrottle(perPair, throttleWindow, now)
	t.expendable = unknownName
	return &loginLimit{t: t, perPair: perPair, perAddress: max(perPair, perAddress), trusted: map[string]time.Time{}}
}

// unknownName tells the keys of names that are no account: a spray of
// made-up names fills the map with them, and forgetting them frees no one.
func unknownName(k string) bool {
	return strings.HasPrefix(k, "a:") || strings.HasPrefix(k, "p:a:")
}

// reserve counts an attempt on account from address, or says how long to
// wait. account is an account key (accountKey, or a name that is no
// account), address a client address.
func (l *loginLimit) reserve(account, address string) (loginAttempt, time.Duration, bool) {
	a := loginKeys(account, address)
	t := l.t
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	wait := t.waitFor(a.pair, l.perPair, now)
	if !l.isTrusted(a.trust, now) {
		wait = max(wait, t.waitFor(a.address, l.perAddress, now))
		if a.net != "" {
			wait = max(wait, t.waitFor(a.net, l.perAddress*netFactor, now))
		}
		if pair := t.recent(a.pair, now); len(pair) >= delayAfterPairFailures {
			if d := l.delay(len(t.recent(a.account, now))); d > 0 {
				wait = max(wait, pair[len(pair)-1].Add(d).Sub(now))
			}
		}
	}
	if wait > 0 {
		return loginAttempt{}, wait, false
	}
	a.at = now
	t.add(now, 0, a.pair, a.address)
	if a.net != "" {
		t.add(now, 0, a.net)
	}
	t.add(now, l.perPair+accountKeep, a.account)
	return a, 0, true
}

// loginKeys names the keys an attempt on account from address counts
// against, and its trusted pair.
func loginKeys(account, address string) loginAttempt {
	addr, net := addressKeys(address)
	a := loginAttempt{pair: "p:" + account + "|" + addr, address: "i:" + addr, account: account, trust: account + "|" + addr}
	if net != "" {
		a.net = "n:" + net
	}
	return a
}

// keys are the throttle keys the attempt counts against.
func (a loginAttempt) keys() []string {
	keys := []string{a.pair, a.address, a.account}
	if a.net != "" {
		keys = append(keys, a.net)
	}
	return keys
}

// isTrusted reports whether the pair signed in within trustFor; the caller
// holds t.mu.
func (l *loginLimit) isTrusted(pair string, now time.Time) bool {
	at, ok := l.trusted[pair]
	return ok && now.Sub(at) < trustFor
}

// delay is how long an address that has failed on an account with this
// many recent failures waits after its last attempt.
func (l *loginLimit) delay(failures int) time.Duration {
	n := failures - l.perPair
	if n < 0 {
		return 0
	}
	if n >= 30 {
		return delayCap
	}
	return min(delayBase<<n, delayCap)
}

// succeeded uncounts a's attempt, forgives the pair's earlier failures and
// trusts the pair. The address's and the account's earlier failures stand:
// forgiving the address would let a guesser renew their budget by signing
// in to their own account, and the account's are someone else's.
func (l *loginLimit) succeeded(a loginAttempt) {
	l.t.mu.Lock()
	defer l.t.mu.Unlock()
	delete(l.t.fails, a.pair)
	l.t.uncount(a.address, a.at)
	if a.net != "" {
		l.t.uncount(a.net, a.at)
	}
	l.t.uncount(a.account, a.at)
	if _, ok := l.trusted[a.trust]; !ok && len(l.trusted) >= maxTrusted {
		l.forgetTrust(a.at)
	}
	l.trusted[a.trust] = a.at
}

// forgetTrust makes room among trusted pairs: the expired ones, then the
// longest unused. Only real sign-ins add to the map, so this is rare.
func (l *loginLimit) forgetTrust(now time.Time) {
	var oldest string
	var at time.Time
	for k, t := range l.trusted {
		if now.Sub(t) >= trustFor {
			delete(l.trusted, k)
		} else if oldest == "" || t.Before(at) {
			oldest, at = k, t
		}
	}
	if len(l.trusted) >= maxTrusted {
		delete(l.trusted, oldest)
	}
}

// unchecked uncounts an attempt whose password was never checked.
func (l *loginLimit) unchecked(a loginAttempt) {
	l.t.Release(Reservation{keys: a.keys(), at: a.at})
}

// AddressKey is the unit a client address is throttled by: IPv6 clients
// are grouped by /64, the block one subscriber gets, so a single host
// cannot rotate addresses to escape a limit.
func AddressKey(ip string) string {
	k, _ := addressKeys(ip)
	return k
}

// addressKeys returns AddressKey(ip) and, for IPv6, the /48 it is in (the
// block one site gets); net is empty for IPv4.
func addressKeys(ip string) (addr, net string) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip, ""
	}
	a = a.Unmap()
	if a.Is6() {
		p64, _ := a.Prefix(64)
		p48, _ := a.Prefix(48)
		return p64.String(), p48.String()
	}
	return a.String(), ""
}
