"""Read aloud: the summary's key facts as sentences per language, spoken by a Piper voice and cached as MP3."""
