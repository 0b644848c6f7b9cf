package stackpath_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/stackpath"
	"github.com/meshtop/meshtop/stackpath/spfake"
)

// TestListingHasAnOverallDeadline: issue 10 item 14. A rate-limited API that asks to
// wait 120 s before every answer used to be sat through for hours; the listing now
// gives up as soon as the next wait would pass its deadline, and says so.
func TestListingHasAnOverallDeadline(t *testing.T) {
	clk := newClock()
	fake := spfake.New(spfake.Config{Instances: running(20), Now: clk.Now,
		InstanceFaults: spfake.Repeat(4, spfake.Fault{Status: 429, RetryAfter: "120"})})
	t.Cleanup(fake.Close)
	var waited time.Duration
	sleep := func(ctx context.Context, d time.Duration) error {
		waited += d
		clk.Advance(d)
		return ctx.Err()
	}
	c := stackpath.New(fake.URL, spfake.DefaultClientID, spfake.DefaultClientSecret,
		stackpath.WithClock(clk.Now), stackpath.WithSleep(sleep), stackpath.WithPageSize(1),
		stackpath.WithDeadline(3*time.Minute))
	_, err := c.Instances(context.Background(), spfake.DefaultStackID, spfake.DefaultWorkloadID)
	if err == nil || !strings.Contains(err.Error(), "3m0s discovery deadline") {
		t.Fatalf("err %v; want it to give up at the deadline", err)
	}
	if waited > 3*time.Minute {
		t.Errorf("waited %s, past the 3 min deadline", waited)
	}
	noSecrets(t, err.Error(), fake)
}

// TestListingDeadlineIsRealToo: a server that never answers ends at the deadline.
func TestListingDeadlineIsRealToo(t *testing.T) {
	fake := spfake.New(spfake.Config{Instances: running(2)})
	t.Cleanup(fake.Close)
	c := stackpath.New(fake.URL, spfake.DefaultClientID, spfake.DefaultClientSecret,
		stackpath.WithDeadline(time.Nanosecond))
	_, err := c.Instances(context.Background(), spfake.DefaultStackID, spfake.DefaultWorkloadID)
	if err == nil || !strings.Contains(err.Error(), "discovery deadline") {
		t.Fatalf("err %v", err)
	}
}

// TestInstanceSeenTwiceIsListedOnce: a listing that changes while it is paged can show
// an instance on two pages; it must become one agent, probed once.
func TestInstanceSeenTwiceIsListedOnce(t *testing.T) {
	is := running(5)
	is = append(is[:3:3], is[0], is[3], is[4]) // scouter-sjc-0 again on page 2
	fake := spfake.New(spfake.Config{Instances: is})
	t.Cleanup(fake.Close)
	c := stackpath.New(fake.URL, spfake.DefaultClientID, spfake.DefaultClientSecret, stackpath.WithPageSize(3))
	got, err := c.Instances(context.Background(), spfake.DefaultStackID, spfake.DefaultWorkloadID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("instances %v; want the 5 distinct ones", names(got))
	}
	agents, _ := stackpath.ToAgents(append(got, got[1]), 8000)
	if len(agents) != 5 {
		t.Errorf("agents %d; want 5", len(agents))
	}
}

// TestStackPathTextIsSanitised: server messages and instance names reach errors, the
// grid and InfluxDB tags without control characters.
func TestStackPathTextIsSanitised(t *testing.T) {
	is := running(1)
	is[0].Name = "evil\x1b]0;T\x07\x1b[2J\nname"
	is[0].Location.Name = "San\x1b[31m Jose"
	fake := spfake.New(spfake.Config{Instances: is, InstanceFaults: []spfake.Fault{{Status: 404,
		Body: `{"code":5,"message":"bad \u001b]0;T\u0007\u001b[2J\nx"}`}}})
	t.Cleanup(fake.Close)
	c := stackpath.New(fake.URL, spfake.DefaultClientID, spfake.DefaultClientSecret)
	_, err := c.Instances(context.Background(), spfake.DefaultStackID, spfake.DefaultWorkloadID)
	if err == nil || strings.ContainsAny(err.Error(), "\x1b\x07\n") || !strings.Contains(err.Error(), "bad ]0;T[2J x") {
		t.Fatalf("err %q", err)
	}
	agents, err := c.Agents(context.Background(), spfake.DefaultStackID, spfake.DefaultWorkloadID, 8000)
	if err != nil || len(agents) != 1 {
		t.Fatalf("agents %v err %v", agents, err)
	}
	a := agents[0]
	if strings.ContainsAny(a.Name+a.Labels["city"], "\x1b\x07\n") {
		t.Errorf("agent %q labels %q", a.Name, a.Labels)
	}
}

// TestHugeAnswerIsCalledTooLarge: an answer cut at the read limit used to read as "not
// an instance list"; it is called what it is.
func TestHugeAnswerIsCalledTooLarge(t *testing.T) {
	fake := spfake.New(spfake.Config{Instances: running(1), InstanceFaults: []spfake.Fault{{Status: 200,
		Body: `{"pageInfo":{},"results":[{"name":"` + strings.Repeat("a", 17<<20) + `"}]}`}}})
	t.Cleanup(fake.Close)
	c := stackpath.New(fake.URL, spfake.DefaultClientID, spfake.DefaultClientSecret)
	_, err := c.Instances(context.Background(), spfake.DefaultStackID, spfake.DefaultWorkloadID)
	if err == nil || !strings.Contains(err.Error(), "larger than 16 MiB") {
		t.Fatalf("err %v", err)
	}
}
