// implemented by the codec work
