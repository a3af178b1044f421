class Config:
    GREETING = "default"


class LocalConfig(Config):
    GREETING = "local"


configs = {"default": Config, "local": LocalConfig}
