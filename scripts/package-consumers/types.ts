// The host's user type, made `req.user`'s type through the augmentation the README documents.
export interface MyUser {
  id: number;
  username: string;
  password: string;
  isActive: boolean;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends MyUser {}
  }
}
