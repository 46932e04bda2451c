declare module 'asl-validator' {
  interface Result {
    isValid: boolean;
    errors: unknown[];
  }
  export default function aslValidator(definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }): Result;
}
