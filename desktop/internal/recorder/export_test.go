package recorder

// ConvertInRecorder switches where colours are converted (see
// convertInRecorder) and returns the previous setting.
func ConvertInRecorder(v bool) bool {
	old := convertInRecorder
	convertInRecorder = v
	return old
}
