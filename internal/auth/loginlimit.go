package auth

import (
	"net/netip"
	"time"
)

// Account-wide delays: once an account has as many recent failures as one
// pair may have, an address that has itself failed on it waits
// delayBase·2^(failures-perPair) after its last attempt, at most delayCap.
const (
	delayBase = time.Second
	delayCap  = throttleWindow
	// accountKeep bounds what is kept of one account's failures: past
	// perPair+accountKeep the delay has long reached its cap.
	accountKeep = 32
)

// loginLimit is the sign-in policy, after OWASP's advice against lockouts
// that anyone can set off:
//   - the pair (account, address) has a tight budget: perPair failures in
//     the window;
//   - an address has a loose budget across accounts: perAddress failures,
//     so many users behind one NAT are not locked out by one of them;
//   - an account is never locked: an address that has failed on it waits
//     longer the more the account has failed from anywhere, while an address
//     that has not failed on it is never refused because of others.
//
// Every attempt is counted before its password is checked and uncounted if
// it succeeds, so a burst cannot check more passwords than the budget.
type loginLimit struct {
	t          *Throttle
	perPair    int
	perAddress int
}

// loginAttempt is a reserved sign-in attempt.
type loginAttempt struct {
	pair, address, account string
	at                     time.Time
}

// defaultPerAddress is the address budget when none is configured: a
// forgotten setting must not bring back one shared address's lockout.
const defaultPerAddress = 100

func newLoginLimit(perPair, perAddress int, now func() time.Time) *loginLimit {
	if perAddress <= 0 {
		perAddress = defaultPerAddress
	}
	return &loginLimit{t: NewThrottle(perPair, throttleWindow, now), perPair: perPair, perAddress: max(perPair, perAddress)}
}

// reserve counts an attempt on account from address, or says how long to
// wait. account is an account key (accountKey, or a name that is no
// account), address a client address.
func (l *loginLimit) reserve(account, address string) (loginAttempt, time.Duration, bool) {
	addr := AddressKey(address)
	a := loginAttempt{pair: "p:" + account + "|" + addr, address: "i:" + addr, account: account}
	t := l.t
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	wait := max(t.waitFor(a.pair, l.perPair, now), t.waitFor(a.address, l.perAddress, now))
	if pair := t.recent(a.pair, now); len(pair) > 0 {
		if d := l.delay(len(t.recent(a.account, now))); d > 0 {
			wait = max(wait, pair[len(pair)-1].Add(d).Sub(now))
		}
	}
	if wait > 0 {
		return loginAttempt{}, wait, false
	}
	a.at = now
	t.add(now, 0, a.pair, a.address)
	t.add(now, l.perPair+accountKeep, a.account)
	return a, 0, true
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

// succeeded uncounts a's attempt and forgives the pair's earlier failures.
// The address's and the account's earlier failures stand: forgiving the
// address would let a guesser renew their budget by signing in to their
// own account, and the account's are someone else's.
func (l *loginLimit) succeeded(a loginAttempt) {
	l.t.mu.Lock()
	defer l.t.mu.Unlock()
	delete(l.t.fails, a.pair)
	l.t.uncount(a.address, a.at)
	l.t.uncount(a.account, a.at)
}

// unchecked uncounts an attempt whose password was never checked.
func (l *loginLimit) unchecked(a loginAttempt) {
	l.t.Release(Reservation{keys: []string{a.pair, a.address, a.account}, at: a.at})
}

// AddressKey is the unit a client address is throttled by: IPv6 clients
// are grouped by /64, the block one subscriber gets, so a single host
// cannot rotate addresses to escape a limit.
func AddressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
