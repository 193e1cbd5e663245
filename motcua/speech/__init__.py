"""Vietnamese number reading, call announcement text and the offline voice clip library."""
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
    "DEFAULT_TEMPLATE",
    "EspeakNotFoundError",
    "LibraryStatus",
    "NumberStyle",
    "SpeechSynthesisError",
    "announcement_clips",
    "announcement_text",
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
