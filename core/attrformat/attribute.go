package attrformat

// Attribute converts a directory value to the shape core expects in
// DirectoryUser.Attributes: nil, a string, or a []string for a list.
// scalar renders one value as the connector's source writes it ("" for
// an empty one); empty values and empty lists become nil.
func Attribute(v any, scalar func(any) string) any {
	if l, ok := v.([]any); ok {
		if len(l) == 0 {
			return nil
		}
		out := make([]string, 0, len(l))
		for _, e := range l {
			if s := scalar(e); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	if s := scalar(v); s != "" {
		return s
	}
	return nil
}
