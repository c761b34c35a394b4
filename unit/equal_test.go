package unit

import (
	"reflect"
	"testing"
)

// fullRequirements returns requirements with every field set (not a
// combination a unit file may ask for: Equal and Clone do not care).
func fullRequirements(t *testing.T) Requirements {
	t.Helper()
	return Requirements{
		MachineID: "2c5e1d2f",
		MachineOf: []string{"db.service"},
		Metadata: MetadataRequirement{
			AnyOf:  []MetadataAnyOf{{Key: "region", Values: []string{"eu", "us"}}},
			Others: []MetadataPredicate{{Key: "ram", Op: OpGreaterEqual, Value: "2048"}},
		},
		Conflicts: []string{"web@*.service"},
		Replaces:  []string{"old.service"},
		Global:    true,
		Ports:     PortRanges{{Lo: 8080, Hi: 8090}},
	}
}

func TestRequirementsCloneIsEqualAndIndependent(t *testing.T) {
	r := fullRequirements(t)
	c := r.Clone()
	if !r.Equal(c) || !reflect.DeepEqual(r, c) {
		t.Fatalf("clone differs: %+v vs %+v", r, c)
	}
	c.MachineOf[0] = "other.service"
	c.Conflicts[0] = "x"
	c.Replaces[0] = "y"
	c.Ports[0].Lo = 1
	c.Metadata.AnyOf[0].Values[0] = "ap"
	c.Metadata.Others[0].Value = "1"
	if !reflect.DeepEqual(r, fullRequirements(t)) {
		t.Fatalf("changing the clone changed the original: %+v", r)
	}
}

// TestRequirementsEqualSeesEveryField changes one leaf of the requirements
// at a time, reached by reflection so that a field added later is covered
// too, and expects Equal to notice each change.
func TestRequirementsEqualSeesEveryField(t *testing.T) {
	base := fullRequirements(t)
	leaves := 0
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
			return
		case reflect.Slice:
			if v.Len() == 0 {
				t.Fatalf("%s is empty in the test's requirements: give it a value", path)
			}
			for i := 0; i < v.Len(); i++ {
				walk(path+"[]", v.Index(i))
			}
			return
		}
		leaves++
		old := reflect.New(v.Type()).Elem()
		old.Set(v)
		switch v.Kind() {
		case reflect.String:
			v.SetString(v.String() + "x")
		case reflect.Bool:
			v.SetBool(!v.Bool())
		case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
			v.SetUint(v.Uint() + 1)
		case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
			v.SetInt(v.Int() + 1)
		default:
			t.Fatalf("%s: a %s the test cannot change", path, v.Kind())
		}
		if base.Equal(fullRequirements(t)) {
			t.Errorf("Equal misses a change of %s", path)
		}
		v.Set(old)
	}
	r := reflect.ValueOf(&base).Elem()
	walk("Requirements", r)
	if !base.Equal(fullRequirements(t)) {
		t.Fatal("restoring every field did not make the requirements equal again")
	}
	if leaves < 10 {
		t.Fatalf("walked only %d fields", leaves)
	}
	// A longer or shorter list is a change too.
	longer := fullRequirements(t)
	longer.Conflicts = append(longer.Conflicts, "more")
	if longer.Equal(fullRequirements(t)) {
		t.Error("Equal misses an added Conflicts glob")
	}
}
