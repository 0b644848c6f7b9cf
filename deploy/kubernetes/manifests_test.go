// Package kubernetes holds the manifests of deploy/kubernetes/ and the test that
// parses every one of them strictly against the Kubernetes API types (k8s.io/api,
// sigs.k8s.io/yaml with unknown and duplicate fields refused), then checks what the
// deployment depends on. No cluster runs here: this is what can be checked without one.
package kubernetes

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// objects are the manifests, decoded.
type objects struct {
	daemonSets  map[string]*appsv1.DaemonSet
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	secrets     map[string]*corev1.Secret
	configMaps  map[string]*corev1.ConfigMap
	namespaces  map[string]*corev1.Namespace
}

// load decodes every document of every *.yaml here, strictly.
func load(t *testing.T) *objects {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	o := &objects{map[string]*appsv1.DaemonSet{}, map[string]*appsv1.Deployment{}, map[string]*corev1.Service{},
		map[string]*corev1.Secret{}, map[string]*corev1.ConfigMap{}, map[string]*corev1.Namespace{}}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(b, []byte("\n---\n")) {
			where := fmt.Sprintf("%s (document %d)", f, i+1)
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &tm); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			var obj interface{ GetName() string }
			var put func()
			switch tm.APIVersion + " " + tm.Kind {
			case "apps/v1 DaemonSet":
				x := &appsv1.DaemonSet{}
				obj, put = x, func() { o.daemonSets[x.Name] = x }
			case "apps/v1 Deployment":
				x := &appsv1.Deployment{}
				obj, put = x, func() { o.deployments[x.Name] = x }
			case "v1 Service":
				x := &corev1.Service{}
				obj, put = x, func() { o.services[x.Name] = x }
			case "v1 Secret":
				x := &corev1.Secret{}
				obj, put = x, func() { o.secrets[x.Name] = x }
			case "v1 ConfigMap":
				x := &corev1.ConfigMap{}
				obj, put = x, func() { o.configMaps[x.Name] = x }
			case "v1 Namespace":
				x := &corev1.Namespace{}
				obj, put = x, func() { o.namespaces[x.Name] = x }
			default:
				t.Fatalf("%s: %q %q is not a kind this test knows: add it", where, tm.APIVersion, tm.Kind)
			}
			// Strict: a misspelt or misplaced field is an error, not a silent no-op.
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			if obj.GetName() == "" {
				t.Fatalf("%s: no metadata.name", where)
			}
			put()
		}
	}
	return o
}

func TestManifestsParseStrictly(t *testing.T) {
	o := load(t)
	if len(o.daemonSets) != 1 || len(o.deployments) != 1 || len(o.services) != 2 || len(o.secrets) != 1 || len(o.namespaces) != 1 {
		t.Fatalf("manifests: %d DaemonSets, %d Deployments, %d Services, %d Secrets, %d Namespaces",
			len(o.daemonSets), len(o.deployments), len(o.services), len(o.secrets), len(o.namespaces))
	}
	// A field in the wrong place is refused (the test can fail).
	bad := []byte("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: x}\nspec:\n  hostNetwork: true\n")
	if err := yaml.UnmarshalStrict(bad, &appsv1.DaemonSet{}); err == nil {
		t.Fatal("spec.hostNetwork (belongs in spec.template.spec) was accepted")
	}
}

func env(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

// The agent: on the host network, NET_RAW and nothing else, its PoP from the node's
// name, the secret from the Secret, matched by the headless Service.
func TestAgentDaemonSet(t *testing.T) {
	o := load(t)
	ds := o.daemonSets["meshtop-agent"]
	if ds == nil {
		t.Fatal("no DaemonSet meshtop-agent")
	}
	ps := ds.Spec.Template.Spec
	if !ps.HostNetwork || ps.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
		t.Errorf("hostNetwork %v, dnsPolicy %s: want the host network with cluster DNS", ps.HostNetwork, ps.DNSPolicy)
	}
	if len(ps.Containers) != 1 {
		t.Fatalf("%d containers", len(ps.Containers))
	}
	c := ps.Containers[0]
	if len(c.Args) == 0 || c.Args[0] != "agent" {
		t.Errorf("args %q: want meshtop agent", c.Args)
	}
	sc := c.SecurityContext
	if sc == nil || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Add, []corev1.Capability{"NET_RAW"}) ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("capabilities %+v: want drop ALL, add NET_RAW only", sc)
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Error("the agent is privileged")
	}
	// The file capability needs exec without no_new_privs.
	if sc.AllowPrivilegeEscalation == nil || !*sc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation false would stop the binary's file capability: no raw ICMP")
	}
	if psc := ps.SecurityContext; psc == nil || psc.RunAsUser == nil || *psc.RunAsUser != 65532 || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("pod security context %+v: want the image's user 65532, non-root", psc)
	}
	if e := env(c, "MESHTOP_POP"); e == nil || e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
		t.Errorf("MESHTOP_POP %+v: want the node's name from the downward API", e)
	}
	if e := env(c, "SCOUTER_API_SECRET"); e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil ||
		o.secrets[e.ValueFrom.SecretKeyRef.Name] == nil {
		t.Errorf("SCOUTER_API_SECRET %+v: want it from the Secret", e)
	} else if _, ok := o.secrets[e.ValueFrom.SecretKeyRef.Name].StringData[e.ValueFrom.SecretKeyRef.Key]; !ok {
		t.Errorf("the Secret has no key %s", e.ValueFrom.SecretKeyRef.Key)
	}
	if ds.Spec.Selector == nil || ds.Spec.Selector.MatchLabels["app.kubernetes.io/name"] != ds.Spec.Template.Labels["app.kubernetes.io/name"] {
		t.Error("the DaemonSet's selector does not match its pods")
	}
	svc := o.services["meshtop-agent"]
	if svc == nil || svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Fatalf("Service meshtop-agent %+v: want headless (clusterIP: None)", svc)
	}
	for k, v := range svc.Spec.Selector {
		if ds.Spec.Template.Labels[k] != v {
			t.Errorf("the headless Service selects %s=%s, which the agents do not carry", k, v)
		}
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 8000 || len(c.Ports) != 1 || c.Ports[0].ContainerPort != 8000 {
		t.Errorf("ports: service %+v, container %+v; want 8000", svc.Spec.Ports, c.Ports)
	}
}

// serve: finds the agents through the headless Service, the secret from the Secret
// (mounted as a file), no capability.
func TestServeDeployment(t *testing.T) {
	o := load(t)
	d := o.deployments["meshtop-serve"]
	if d == nil {
		t.Fatal("no Deployment meshtop-serve")
	}
	ps := d.Spec.Template.Spec
	c := ps.Containers[0]
	args := strings.Join(c.Args, " ")
	svc := o.services["meshtop-agent"]
	want := fmt.Sprintf("--discover dns://%s.%s.svc.cluster.local:%d", svc.Name, svc.Namespace, svc.Spec.Ports[0].Port)
	if c.Args[0] != "serve" || !strings.Contains(args, want) {
		t.Errorf("args %q: want serve %s", args, want)
	}
	if sc := c.SecurityContext; sc == nil || sc.Capabilities == nil || len(sc.Capabilities.Add) != 0 ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("serve's security context %+v: want no capability, no privilege escalation", sc)
	}
	// Every file flag names a mounted path; the secret comes from the Secret.
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	vols := map[string]corev1.Volume{}
	for _, v := range ps.Volumes {
		vols[v.Name] = v
	}
	for i, a := range c.Args {
		if !strings.HasPrefix(a, "--") || i+1 >= len(c.Args) || !strings.HasPrefix(c.Args[i+1], "/") {
			continue
		}
		path := c.Args[i+1]
		found := false
		for name, mp := range mounts {
			if strings.HasPrefix(path, mp+"/") || path == mp {
				found = true
				if a == "--scouter-secret-file" && (vols[name].Secret == nil || o.secrets[vols[name].Secret.SecretName] == nil) {
					t.Errorf("%s %s is not from the Secret", a, path)
				}
				if cm := vols[name].ConfigMap; cm != nil {
					if _, ok := o.configMaps[cm.Name].Data[filepath.Base(path)]; !ok {
						t.Errorf("%s %s: ConfigMap %s has no key %s", a, path, cm.Name, filepath.Base(path))
					}
				}
			}
		}
		if !found {
			t.Errorf("%s %s: no volume is mounted there", a, path)
		}
	}
}

// The containers' arguments are flags meshtop has: each is parsed by the real command
// (with --help, so nothing starts).
func TestManifestArgsAreMeshtopFlags(t *testing.T) {
	o := load(t)
	bin := filepath.Join(t.TempDir(), "meshtop")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/meshtop").CombinedOutput(); err != nil {
		t.Fatalf("build meshtop: %v\n%s", err, out)
	}
	var all [][]string
	for _, ds := range o.daemonSets {
		all = append(all, ds.Spec.Template.Spec.Containers[0].Args)
	}
	for _, d := range o.deployments {
		all = append(all, d.Spec.Template.Spec.Containers[0].Args)
	}
	for _, args := range all {
		cmd := exec.Command(bin, append(slices.Clone(args), "--help")...)
		cmd.Env = append(os.Environ(), "MESHTOP_CONFIG=", "XDG_CONFIG_HOME="+t.TempDir())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("meshtop %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// And a wrong flag would fail (the check can fail).
	if err := exec.Command(bin, "agent", "--no-such-flag", "--help").Run(); err == nil {
		t.Fatal("an unknown flag passed")
	}
}
