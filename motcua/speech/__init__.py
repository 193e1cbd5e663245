"""Vietnamese number reading, call announcement text and the offline voice clip library."""
from .announcer import CallAnnouncer, call_announcement
from .announce import (
    DEFAULT_TEMPLATE,
    announcement_clips,
    announcement_text,
    template_phrases,
    validate_template,
)
from .clips import (
    EspeakNotFoundError,
    LibraryStatus,
    SpeechSynthesisError,
    clip_vocabulary,
    generate_library,
    library_status,
    render_announcement_wav,
    resolve_clip,
)
from .library import VoiceLibrary
from .numbers_vi import (
    NumberStyle,
    digits_to_words,
    number_to_words,
    ticket_number_words,
)
from .vocabulary import BUILTIN_TEMPLATES, CHIME

__all__ = [
    "BUILTIN_TEMPLATES",
    "CHIME",
    "CallAnnouncer",
    "DEFAULT_TEMPLATE",
    "EspeakNotFoundError",
    "LibraryStatus",
    "NumberStyle",
    "SpeechSynthesisError",
    "VoiceLibrary",
    "announcement_clips",
    "announcement_text",
    "call_announcement",
    "clip_vocabulary",
    "digits_to_words",
    "generate_library",
    "library_status",
    "number_to_words",
    "render_announcement_wav",
    "resolve_clip",
    "template_phrases",
    "ticket_number_words",
    "validate_template",
]
