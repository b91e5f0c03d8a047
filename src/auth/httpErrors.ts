/** An error carrying an HTTP status, in the shape Express and the app's error handler read (`status`, `expose`). */
export class HttpError extends Error {
  readonly status: number
  readonly statusCode: number
  readonly expose = true

  constructor(status: number, message: string) {
    super(message)
    this.name = 'HttpError'
    this.status = status
    this.statusCode = status
  }
}
