// The testbench's own errors (cocotb.result): a cancelled task or wait, and a timed-out wait.

export class CancelledError extends Error {
  constructor(what: string) {
    super(`${what} was cancelled`);
    this.name = "CancelledError";
  }
}

export class SimTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SimTimeoutError";
  }
}
