package stackpath_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/stackpath"
	"github.com/meshtop/meshtop/stackpath/spfake"
)

func TestAgents(t *testing.T) {
	sjc, ams, nrt := cities[0], cities[1], cities[2]
	instances := []spfake.Instance{
		{Name: "scouter-sjc-1", Phase: "RUNNING", ExternalIPAddress: "198.18.0.2", IPAddress: "10.0.0.2", Location: sjc},
		{Name: "scouter-sjc-0", Phase: "RUNNING", ExternalIPAddress: "198.18.0.1", IPAddress: "10.0.0.1", Location: sjc},
		{Name: "scouter-ams-0", Phase: "RUNNING", IPAddress: "10.0.1.1", Location: ams}, // no external: private fallback
		{Name: "scouter-ams-1", Phase: "STARTING", ExternalIPAddress: "198.18.1.2", Location: ams},
		{Name: "scouter-ams-2", Phase: "SCHEDULING", Location: ams},
		{Name: "scouter-nrt-0", Phase: "STOPPED", ExternalIPAddress: "198.18.2.1", Location: nrt},
		{Name: "scouter-nrt-1", Phase: "FAILED", ExternalIPAddress: "198.18.2.2", Location: nrt},
		{Name: "scouter-nrt-2", Phase: "RUNNING", ExternalIPv6Address: "2001:db8::2", Location: nrt}, // v6 only
		{Name: "scouter-nrt-3", Phase: "RUNNING", IPAddress: "fd00::3", Location: spfake.Location{CityCode: "NRT"}},
		{Name: "scouter-xxx-0", Phase: "RUNNING", ExternalIPAddress: "198.18.3.1"}, // no location
		{Name: "scouter-bad-0", Phase: "RUNNING", ExternalIPAddress: "not-an-ip", Location: sjc},
	}
	fake := spfake.New(spfake.Config{Instances: instances})
	defer fake.Close()
	c := stackpath.New(fake.URL, spfake.DefaultClientID, spfake.DefaultClientSecret, stackpath.WithPageSize(4))

	got, err := c.Agents(context.Background(), spfake.DefaultStackID, spfake.DefaultWorkloadID, 8000)
	if err != nil {
		t.Fatal(err)
	}
	want := []mesh.Agent{
		{Name: "scouter-ams-0", Pop: "ams", Address: "10.0.1.1", URL: "http://10.0.1.1:8000",
			Labels: map[string]string{"region": "EMEA", "country": "NL", "continent": "EU", "city": "Amsterdam"}},
		{Name: "scouter-nrt-3", Pop: "nrt", Address: "fd00::3", URL: "http://[fd00::3]:8000"},
		{Name: "scouter-sjc-0", Pop: "sjc", Address: "198.18.0.1", URL: "http://198.18.0.1:8000",
			Labels: map[string]string{"region": "AMER", "country": "US", "continent": "NA", "city": "San Jose"}},
		{Name: "scouter-sjc-1", Pop: "sjc", Address: "198.18.0.2", URL: "http://198.18.0.2:8000",
			Labels: map[string]string{"region": "AMER", "country": "US", "continent": "NA", "city": "San Jose"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("agents\n got %+v\nwant %+v", got, want)
	}

	is, err := c.Instances(context.Background(), spfake.DefaultStackID, spfake.DefaultWorkloadID)
	if err != nil {
		t.Fatal(err)
	}
	if is[0].Location != (stackpath.Location{CityCode: "SJC", Name: "San Jose", CountryCode: "US", ContinentCode: "NA",
		RegionCode: "AMER", Latitude: 37.3, Longitude: -121.9}) || is[7].ExternalIPv6Address != "2001:db8::2" {
		t.Errorf("decoded instances %+v", is)
	}
	_, skipped := stackpath.ToAgents(is, 8000)
	wantSkipped := []stackpath.Skipped{
		{Name: "scouter-ams-1", Phase: "STARTING", Reason: "not running"},
		{Name: "scouter-ams-2", Phase: "SCHEDULING", Reason: "not running"},
		{Name: "scouter-nrt-0", Phase: "STOPPED", Reason: "not running"},
		{Name: "scouter-nrt-1", Phase: "FAILED", Reason: "not running"},
		{Name: "scouter-nrt-2", Phase: "RUNNING", Reason: "no address in externalIpAddress or ipAddress"},
		{Name: "scouter-xxx-0", Phase: "RUNNING", Reason: "no usable location.cityCode for a PoP code"},
		{Name: "scouter-bad-0", Phase: "RUNNING", Reason: "no address in externalIpAddress or ipAddress"},
	}
	if !reflect.DeepEqual(skipped, wantSkipped) {
		t.Errorf("skipped\n got %+v\nwant %+v", skipped, wantSkipped)
	}
}

func TestAgentsError(t *testing.T) {
	fake := spfake.New(spfake.Config{Forbidden: true})
	defer fake.Close()
	c := stackpath.New(fake.URL, spfake.DefaultClientID, spfake.DefaultClientSecret)
	got, err := c.Agents(context.Background(), spfake.DefaultStackID, spfake.DefaultWorkloadID, 8000)
	if err == nil || got != nil {
		t.Errorf("Agents = %v, %v; want nil and a 403 error", got, err)
	}
}
