/** A configuration value that fails validation; names the key path and the value. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly keyPath?: string,
    readonly value?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConfigError';
  }
}
