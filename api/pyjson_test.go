package api

import "testing"

func TestMarshalPython(t *testing.T) {
	v, err := Decode([]byte(`{"b": [1, 2.0, 1e-7, "é\u0001", "😀", true, null], "a": {"x": "q\"\\/\n"}}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := MarshalPython(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"b": [1, 2.0, 1e-07, "\u00e9\u0001", "\ud83d\ude00", true, null], "a": {"x": "q\"\\/\n"}}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
