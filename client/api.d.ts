// Generated from GET /openapi.json by client/types.ts: do not edit (bun run client:generate).

export interface paths {
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: PostgreSQL and Redis reachable */
        get: operations["getReady"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/providers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Enabled sign-in providers */
        get: operations["getAuthProviders"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/{provider}/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Start signing in: 302 to the provider (state, PKCE S256, nonce) */
        get: operations["getAuthByProviderLogin"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/{provider}/callback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Finish signing in; creates the user on first sign-in. The token pair, or with return_to a 302 to the app with a one-time code */
        get: operations["getAuthByProviderCallback"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/exchange": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Exchange a sign-in's one-time code (at most 60 s old, single use) for the token pair */
        post: operations["postAuthExchange"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/refresh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Rotate a refresh token (the body's, or the feed_refresh cookie's): a new pair; the old token is spent */
        post: operations["postAuthRefresh"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Sign out (the body's refresh token, or the feed_refresh cookie's, which is cleared): its whole family is revoked */
        post: operations["postAuthLogout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/feed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your personal feed, newest first: older posts with cursor, newer ones with after (ETag; If-None-Match answers 304) */
        get: operations["getFeed"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/posts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Publish a post: JSON {text, upload_key?} or multipart text + image (requires Idempotency-Key) */
        post: operations["postPosts"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/posts/popular": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Most liked recent posts (cached) */
        get: operations["getPostsPopular"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/posts/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One post */
        get: operations["getPostsById"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/likes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Like a post (201 new, 200 already liked) */
        post: operations["postLikes"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/likes/{post_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Unlike a post */
        delete: operations["deleteLikesByPost_id"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/follows": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Follow a user (201 new, 200 already following) */
        post: operations["postFollows"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/follows/{user_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Unfollow a user */
        delete: operations["deleteFollowsByUser_id"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your own profile */
        get: operations["getMe"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A profile with counts and followed_by_me */
        get: operations["getUsersById"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users/{id}/posts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A user's posts, newest first: older with cursor, newer with after */
        get: operations["getUsersByIdPosts"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/posts/{id}/image": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Attach or replace your post's image (multipart file); the text stays immutable */
        put: operations["putPostsByIdImage"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/me/avatar": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Replace your avatar (multipart file); the old object is deleted */
        put: operations["putMeAvatar"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/uploads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A presigned POST for a direct upload to S3 (size and type in its policy); attach its key afterwards */
        post: operations["postUploads"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: never;
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Response for status 200 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        status: "ok";
                    };
                };
            };
        };
    };
    getReady: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Response for status 200 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        status: "ready";
                        postgres: boolean;
                        redis: boolean;
                    };
                };
            };
            /** @description RFC 9457 problem details */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    getAuthProviders: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Response for status 200 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        providers: {
                            name: string;
                            login_url: string;
                        }[];
                    };
                };
            };
        };
    };
    getAuthByProviderLogin: {
        parameters: {
            query?: {
                login_hint?: string;
                return_to?: string;
            };
            header?: never;
            path: {
                provider: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Response for status 302 */
            302: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    getAuthByProviderCallback: {
        parameters: {
            query?: {
                code?: string;
                state?: string;
                error?: string;
                error_description?: string;
            };
            header?: never;
            path: {
                provider: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Response for status 200 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        access_token: string;
                        /** @constant */
                        token_type: "Bearer";
                        expires_in: string | number;
                        /** @description absent when the request chose "refresh": "cookie": it is in the feed_refresh cookie */
                        refresh_token?: string;
                        user: {
                            /**
                             * @description 64-bit id as a decimal string
                             * @example 7312950014423042
                             */
                            id: string;
                            handle: string;
                            display_name: string;
                            avatar_url: string | null;
                            /** @description a square WebP of 128 px, once made */
                            avatar_thumb_url: string | null;
                        };
                    };
                };
            };
            /** @description Response for status 302 */
            302: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    postAuthExchange: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description the code the sign-in returned with */
                    code: string;
                    /** @description the app the code was issued for */
                    return_to?: string;
                    /** @enum {string} */
                    refresh?: "body" | "cookie";
                };
                "application/x-www-form-urlencoded": {
                    /** @description the code the sign-in returned with */
                    code: string;
                    /** @description the app the code was issued for */
                    return_to?: string;
                    /** @enum {string} */
                    refresh?: "body" | "cookie";
                };
                "multipart/form-data": {
                    /** @description the code the sign-in returned with */
                    code: string;
                    /** @description the app the code was issued for */
                    return_to?: string;
                    /** @enum {string} */
                    refresh?: "body" | "cookie";
                };
            };
        };
        responses: {
            /** @description Response for status 200 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        access_token: string;
                        /** @constant */
                        token_type: "Bearer";
                        expires_in: string | number;
                        /** @description absent when the request chose "refresh": "cookie": it is in the feed_refresh cookie */
                        refresh_token?: string;
                        user: {
                            /**
                             * @description 64-bit id as a decimal string
                             * @example 7312950014423042
                             */
                            id: string;
                            handle: string;
                            display_name: string;
                            avatar_url: string | null;
                            /** @description a square WebP of 128 px, once made */
                            avatar_thumb_url: string | null;
                        };
                    };
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    postAuthRefresh: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description the opaque refresh token from sign-in or the last refresh; without it, the feed_refresh cookie's */
                    refresh_token?: string;
                    /** @enum {string} */
                    refresh?: "body" | "cookie";
                };
                "application/x-www-form-urlencoded": {
                    /** @description the opaque refresh token from sign-in or the last refresh; without it, the feed_refresh cookie's */
                    refresh_token?: string;
                    /** @enum {string} */
                    refresh?: "body" | "cookie";
                };
                "multipart/form-data": {
                    /** @description the opaque refresh token from sign-in or the last refresh; without it, the feed_refresh cookie's */
                    refresh_token?: string;
                    /** @enum {string} */
                    refresh?: "body" | "cookie";
                };
            };
        };
        responses: {
            /** @description Response for status 200 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        access_token: string;
                        /** @constant */
                        token_type: "Bearer";
                        expires_in: string | number;
                        /** @description absent when the request chose "refresh": "cookie": it is in the feed_refresh cookie */
                        refresh_token?: string;
                        user: {
                            /**
                             * @description 64-bit id as a decimal string
                             * @example 7312950014423042
                             */
                            id: string;
                            handle: string;
                            display_name: string;
                            avatar_url: string | null;
                            /** @description a square WebP of 128 px, once made */
                            avatar_thumb_url: string | null;
                        };
                    };
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    postAuthLogout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description the opaque refresh token from sign-in or the last refresh; without it, the feed_refresh cookie's */
                    refresh_token?: string;
                    /** @enum {string} */
                    refresh?: "body" | "cookie";
                };
                "application/x-www-form-urlencoded": {
                    /** @description the opaque refresh token from sign-in or the last refresh; without it, the feed_refresh cookie's */
                    refresh_token?: string;
                    /** @enum {string} */
                    refresh?: "body" | "cookie";
                };
                "multipart/form-data": {
                    /** @description the opaque refresh token from sign-in or the last refresh; without it, the feed_refresh cookie's */
                    refresh_token?: string;
                    /** @enum {string} */
                    refresh?: "body" | "cookie";
                };
            };
        };
        responses: {
            /** @description Response for status 204 */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    getFeed: {
        parameters: {
            query?: {
                limit?: string | number;
                cursor?: string;
                after?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Response for status 200 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            /**
                             * @description 64-bit id as a decimal string
                             * @example 7312950014423042
                             */
                            id: string;
                            author: {
                                /**
                                 * @description 64-bit id as a decimal string
                                 * @example 7312950014423042
                                 */
                                id: string;
                                handle: string;
                                display_name: string;
                                avatar_url: string | null;
                                /** @description a square WebP of 128 px, once made */
                                avatar_thumb_url: string | null;
                            };
                            text: string;
                            /** Format: date-time */
                            created_at: string;
                            image: {
                                url: string;
                                thumb_url: string | null;
                                width: (string | number) | null;
                                height: (string | number) | null;
                            } | null;
                            like_count: string | number;
                            liked_by_me: boolean;
                        }[];
                        /** @description the cursor of the page's oldest item, to read older posts */
                        next_cursor: string | null;
                        /** @description the cursor of the page's newest item, to read newer posts (after=); on an empty after= page, that after; null on an empty page */
                        prev_cursor: string | null;
                        /** @description an after= page only: more posts newer than this page remain (ask again with after=prev_cursor) */
                        has_newer: boolean;
                    };
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    postPosts: {
        parameters: {
            query?: never;
            header?: {
                "idempotency-key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description 1–500 characters after trimming */
                    text: string;
                    /**
                     * Format: binary
                     * @description multipart only: JPEG, PNG or WebP, at most 5 MB
                     * @default File
                     */
                    image?: string;
                    /** @description JSON: the key of a direct upload (POST /uploads) to attach as the image */
                    upload_key?: string;
                };
                "multipart/form-data": {
                    /** @description 1–500 characters after trimming */
                    text: string;
                    /**
                     * Format: binary
                     * @description multipart only: JPEG, PNG or WebP, at most 5 MB
                     * @default File
                     */
                    image?: string;
                    /** @description JSON: the key of a direct upload (POST /uploads) to attach as the image */
                    upload_key?: string;
                };
            };
        };
        responses: {
            /** @description Response for status 200 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * @description 64-bit id as a decimal string
                         * @example 7312950014423042
                         */
                        id: string;
                        author: {
                            /**
                             * @description 64-bit id as a decimal string
                             * @example 7312950014423042
                             */
                            id: string;
                            handle: string;
                            display_name: string;
                            avatar_url: string | null;
                            /** @description a square WebP of 128 px, once made */
                            avatar_thumb_url: string | null;
                        };
                        text: string;
                        /** Format: date-time */
                        created_at: string;
                        image: {
                            url: string;
                            thumb_url: string | null;
                            width: (string | number) | null;
                            height: (string | number) | null;
                        } | null;
                        like_count: string | number;
                        liked_by_me: boolean;
                    };
                };
            };
            /** @description Response for status 201 */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * @description 64-bit id as a decimal string
                         * @example 7312950014423042
                         */
                        id: string;
                        author: {
                            /**
                             * @description 64-bit id as a decimal string
                             * @example 7312950014423042
                             */
                            id: string;
                            handle: string;
                            display_name: string;
                            avatar_url: string | null;
                            /** @description a square WebP of 128 px, once made */
                            avatar_thumb_url: string | null;
                        };
                        text: string;
                        /** Format: date-time */
                        created_at: string;
                        image: {
                            url: string;
                            thumb_url: string | null;
                            width: (string | number) | null;
                            height: (string | number) | null;
                        } | null;
                        like_count: string | number;
                        liked_by_me: boolean;
                    };
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    getPostsPopular: {
        parameters: {
            query?: {
                limit?: string | number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Response for status 200 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            /**
                             * @description 64-bit id as a decimal string
                             * @example 7312950014423042
                             */
                            id: string;
                            author: {
                                /**
                                 * @description 64-bit id as a decimal string
                                 * @example 7312950014423042
                                 */
                                id: string;
                                handle: string;
                                display_name: string;
                                avatar_url: string | null;
                                /** @description a square WebP of 128 px, once made */
                                avatar_thumb_url: string | null;
                            };
                            text: string;
                            /** Format: date-time */
                            created_at: string;
                            image: {
                                url: string;
                                thumb_url: string | null;
                                width: (string | number) | null;
                                height: (string | number) | null;
                            } | null;
                            like_count: string | number;
                            liked_by_me: boolean;
                        }[];
                        next_cursor: null;
                    };
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    getPostsById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Response for status 200 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * @description 64-bit id as a decimal string
                         * @example 7312950014423042
                         */
                        id: string;
                        author: {
                            /**
                             * @description 64-bit id as a decimal string
                             * @example 7312950014423042
                             */
                            id: string;
                            handle: string;
                            display_name: string;
                            avatar_url: string | null;
                            /** @description a square WebP of 128 px, once made */
                            avatar_thumb_url: string | null;
                        };
                        text: string;
                        /** Format: date-time */
                        created_at: string;
                        image: {
                            url: string;
                            thumb_url: string | null;
                            width: (string | number) | null;
                            height: (string | number) | null;
                        } | null;
                        like_count: string | number;
                        liked_by_me: boolean;
                    };
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    postLikes: {
        parameters: {
            query?: never;
            header?: {
                "idempotency-key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /**
                     * @description 64-bit id as a decimal string
                     * @example 7312950014423042
                     */
                    post_id: string;
                };
                "application/x-www-form-urlencoded": {
                    /**
                     * @description 64-bit id as a decimal string
                     * @example 7312950014423042
                     */
                    post_id: string;
                };
                "multipart/form-data": {
                    /**
                     * @description 64-bit id as a decimal string
                     * @example 7312950014423042
                     */
                    post_id: string;
                };
            };
        };
        responses: {
            /** @description Response for status 200 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * @description 64-bit id as a decimal string
                         * @example 7312950014423042
                         */
                        post_id: string;
                        liked: boolean;
                    };
                };
            };
            /** @description Response for status 201 */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * @description 64-bit id as a decimal string
                         * @example 7312950014423042
                         */
                        post_id: string;
                        liked: boolean;
                    };
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    deleteLikesByPost_id: {
        parameters: {
            query?: never;
            header?: {
                "idempotency-key"?: string;
            };
            path: {
                post_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Response for status 204 */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    postFollows: {
        parameters: {
            query?: never;
            header?: {
                "idempotency-key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /**
                     * @description 64-bit id as a decimal string
                     * @example 7312950014423042
                     */
                    user_id: string;
                };
                "application/x-www-form-urlencoded": {
                    /**
                     * @description 64-bit id as a decimal string
                     * @example 7312950014423042
                     */
                    user_id: string;
                };
                "multipart/form-data": {
                    /**
                     * @description 64-bit id as a decimal string
                     * @example 7312950014423042
                     */
                    user_id: string;
                };
            };
        };
        responses: {
            /** @description Response for status 200 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * @description 64-bit id as a decimal string
                         * @example 7312950014423042
                         */
                        user_id: string;
                        following: boolean;
                    };
                };
            };
            /** @description Response for status 201 */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * @description 64-bit id as a decimal string
                         * @example 7312950014423042
                         */
                        user_id: string;
                        following: boolean;
                    };
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    deleteFollowsByUser_id: {
        parameters: {
            query?: never;
            header?: {
                "idempotency-key"?: string;
            };
            path: {
                user_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Response for status 204 */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    getMe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Response for status 200 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * @description 64-bit id as a decimal string
                         * @example 7312950014423042
                         */
                        id: string;
                        handle: string;
                        display_name: string;
                        avatar_url: string | null;
                        /** @description a square WebP of 128 px, once made */
                        avatar_thumb_url: string | null;
                        followers_count: string | number;
                        following_count: string | number;
                        posts_count: string | number;
                        followed_by_me: boolean;
                    };
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    getUsersById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Response for status 200 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * @description 64-bit id as a decimal string
                         * @example 7312950014423042
                         */
                        id: string;
                        handle: string;
                        display_name: string;
                        avatar_url: string | null;
                        /** @description a square WebP of 128 px, once made */
                        avatar_thumb_url: string | null;
                        followers_count: string | number;
                        following_count: string | number;
                        posts_count: string | number;
                        followed_by_me: boolean;
                    };
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    getUsersByIdPosts: {
        parameters: {
            query?: {
                limit?: string | number;
                cursor?: string;
                after?: string;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Response for status 200 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            /**
                             * @description 64-bit id as a decimal string
                             * @example 7312950014423042
                             */
                            id: string;
                            author: {
                                /**
                                 * @description 64-bit id as a decimal string
                                 * @example 7312950014423042
                                 */
                                id: string;
                                handle: string;
                                display_name: string;
                                avatar_url: string | null;
                                /** @description a square WebP of 128 px, once made */
                                avatar_thumb_url: string | null;
                            };
                            text: string;
                            /** Format: date-time */
                            created_at: string;
                            image: {
                                url: string;
                                thumb_url: string | null;
                                width: (string | number) | null;
                                height: (string | number) | null;
                            } | null;
                            like_count: string | number;
                            liked_by_me: boolean;
                        }[];
                        /** @description the cursor of the page's oldest item, to read older posts */
                        next_cursor: string | null;
                        /** @description the cursor of the page's newest item, to read newer posts (after=); on an empty after= page, that after; null on an empty page */
                        prev_cursor: string | null;
                        /** @description an after= page only: more posts newer than this page remain (ask again with after=prev_cursor) */
                        has_newer: boolean;
                    };
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    putPostsByIdImage: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /**
                     * Format: binary
                     * @description multipart: JPEG, PNG or WebP, at most 5 MB
                     * @default File
                     */
                    file?: string;
                    /** @description JSON: the key of a direct upload (POST /uploads) */
                    upload_key?: string;
                };
                "multipart/form-data": {
                    /**
                     * Format: binary
                     * @description multipart: JPEG, PNG or WebP, at most 5 MB
                     * @default File
                     */
                    file?: string;
                    /** @description JSON: the key of a direct upload (POST /uploads) */
                    upload_key?: string;
                };
            };
        };
        responses: {
            /** @description Response for status 200 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * @description 64-bit id as a decimal string
                         * @example 7312950014423042
                         */
                        id: string;
                        author: {
                            /**
                             * @description 64-bit id as a decimal string
                             * @example 7312950014423042
                             */
                            id: string;
                            handle: string;
                            display_name: string;
                            avatar_url: string | null;
                            /** @description a square WebP of 128 px, once made */
                            avatar_thumb_url: string | null;
                        };
                        text: string;
                        /** Format: date-time */
                        created_at: string;
                        image: {
                            url: string;
                            thumb_url: string | null;
                            width: (string | number) | null;
                            height: (string | number) | null;
                        } | null;
                        like_count: string | number;
                        liked_by_me: boolean;
                    };
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    putMeAvatar: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /**
                     * Format: binary
                     * @description multipart: JPEG, PNG or WebP, at most 5 MB
                     * @default File
                     */
                    file?: string;
                    /** @description JSON: the key of a direct upload (POST /uploads) */
                    upload_key?: string;
                };
                "multipart/form-data": {
                    /**
                     * Format: binary
                     * @description multipart: JPEG, PNG or WebP, at most 5 MB
                     * @default File
                     */
                    file?: string;
                    /** @description JSON: the key of a direct upload (POST /uploads) */
                    upload_key?: string;
                };
            };
        };
        responses: {
            /** @description Response for status 200 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * @description 64-bit id as a decimal string
                         * @example 7312950014423042
                         */
                        id: string;
                        handle: string;
                        display_name: string;
                        avatar_url: string | null;
                        /** @description a square WebP of 128 px, once made */
                        avatar_thumb_url: string | null;
                    };
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
    postUploads: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @enum {string} */
                    purpose: "avatar" | "post_image";
                    /** @enum {string} */
                    content_type: "image/jpeg" | "image/png" | "image/webp";
                    /** @description bytes; at most 5 MB */
                    size: string | number;
                };
                "application/x-www-form-urlencoded": {
                    /** @enum {string} */
                    purpose: "avatar" | "post_image";
                    /** @enum {string} */
                    content_type: "image/jpeg" | "image/png" | "image/webp";
                    /** @description bytes; at most 5 MB */
                    size: string | number;
                };
                "multipart/form-data": {
                    /** @enum {string} */
                    purpose: "avatar" | "post_image";
                    /** @enum {string} */
                    content_type: "image/jpeg" | "image/png" | "image/webp";
                    /** @description bytes; at most 5 MB */
                    size: string | number;
                };
            };
        };
        responses: {
            /** @description Response for status 200 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        url: string;
                        fields: {
                            [key: string]: string;
                        };
                        key: string;
                        expires_at: string;
                    };
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        type: string;
                        title: string;
                        status: string | number;
                        detail: string;
                        code: string;
                        instance?: string;
                        request_id?: string;
                        errors?: {
                            location: string;
                            path: string;
                            message: string;
                        }[];
                    };
                };
            };
        };
    };
}
