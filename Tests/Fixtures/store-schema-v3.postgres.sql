--
-- PostgreSQL database dump
--

\restrict NWDtIqaeATqVr4Lklg40lvt43zgOxosVIPx0rL7QR7372Ei7kYSAgMOTu4FgzZS

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: changes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.changes (
    seq bigint NOT NULL,
    change_id text NOT NULL COLLATE pg_catalog."C",
    entity text NOT NULL,
    record text NOT NULL COLLATE pg_catalog."C",
    field text,
    case_id text COLLATE pg_catalog."C",
    hlc text NOT NULL COLLATE pg_catalog."C",
    body text NOT NULL,
    moved_from text COLLATE pg_catalog."C"
);


--
-- Name: device_access; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.device_access (
    device text NOT NULL,
    case_id text NOT NULL COLLATE pg_catalog."C",
    generation bigint NOT NULL,
    level integer NOT NULL
);


--
-- Name: devices; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.devices (
    id text NOT NULL COLLATE pg_catalog."C",
    advisor text NOT NULL,
    name text,
    token_hash text NOT NULL,
    enrolled_at bigint NOT NULL,
    revoked_at bigint,
    generation bigint DEFAULT 0 NOT NULL,
    app_version text,
    last_seen_at bigint,
    pulled_seq bigint
);


--
-- Name: enrollment_codes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.enrollment_codes (
    code_hash text NOT NULL,
    advisor text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    used_at bigint,
    device text
);


--
-- Name: records; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.records (
    entity text NOT NULL,
    id text NOT NULL COLLATE pg_catalog."C",
    state text NOT NULL
);


--
-- Data for Name: changes; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.changes (seq, change_id, entity, record, field, case_id, hlc, body, moved_from) FROM stdin;
1	server-e75fdb77c5677ea4:1	program	business-production	name	\N	0001796215281427-000000-server-e75fdb77c5677ea4	{"author":"00000000-0000-0000-0000-000000000000","entity":"program","field":"name","hlc":"0001796215281427-000000-server-e75fdb77c5677ea4","id":"server-e75fdb77c5677ea4:1","op":"set","prev":[],"record":"business-production","value":"事業プロデュース"}	\N
2	server-e75fdb77c5677ea4:2	program	business-production	ministry	\N	0001796215281428-000000-server-e75fdb77c5677ea4	{"author":"00000000-0000-0000-0000-000000000000","entity":"program","field":"ministry","hlc":"0001796215281428-000000-server-e75fdb77c5677ea4","id":"server-e75fdb77c5677ea4:2","op":"set","prev":[],"record":"business-production","value":"meti"}	\N
3	server-e75fdb77c5677ea4:3	program	matching-planner	name	\N	0001796215281428-000001-server-e75fdb77c5677ea4	{"author":"00000000-0000-0000-0000-000000000000","entity":"program","field":"name","hlc":"0001796215281428-000001-server-e75fdb77c5677ea4","id":"server-e75fdb77c5677ea4:3","op":"set","prev":[],"record":"matching-planner","value":"マッチングプランナー（JST）"}	\N
4	server-e75fdb77c5677ea4:4	program	matching-planner	ministry	\N	0001796215281428-000002-server-e75fdb77c5677ea4	{"author":"00000000-0000-0000-0000-000000000000","entity":"program","field":"ministry","hlc":"0001796215281428-000002-server-e75fdb77c5677ea4","id":"server-e75fdb77c5677ea4:4","op":"set","prev":[],"record":"matching-planner","value":"mext"}	\N
5	server-e75fdb77c5677ea4:5	program	ip-advisor	name	\N	0001796215281428-000003-server-e75fdb77c5677ea4	{"author":"00000000-0000-0000-0000-000000000000","entity":"program","field":"name","hlc":"0001796215281428-000003-server-e75fdb77c5677ea4","id":"server-e75fdb77c5677ea4:5","op":"set","prev":[],"record":"ip-advisor","value":"産学連携知的財産アドバイザー（INPIT）"}	\N
6	server-e75fdb77c5677ea4:6	program	ip-advisor	ministry	\N	0001796215281428-000004-server-e75fdb77c5677ea4	{"author":"00000000-0000-0000-0000-000000000000","entity":"program","field":"ministry","hlc":"0001796215281428-000004-server-e75fdb77c5677ea4","id":"server-e75fdb77c5677ea4:6","op":"set","prev":[],"record":"ip-advisor","value":"meti"}	\N
7	server-e75fdb77c5677ea4:7	program	ip-producer	name	\N	0001796215281428-000005-server-e75fdb77c5677ea4	{"author":"00000000-0000-0000-0000-000000000000","entity":"program","field":"name","hlc":"0001796215281428-000005-server-e75fdb77c5677ea4","id":"server-e75fdb77c5677ea4:7","op":"set","prev":[],"record":"ip-producer","value":"知的財産プロデューサー（INPIT）"}	\N
8	server-e75fdb77c5677ea4:8	program	ip-producer	ministry	\N	0001796215281428-000006-server-e75fdb77c5677ea4	{"author":"00000000-0000-0000-0000-000000000000","entity":"program","field":"ministry","hlc":"0001796215281428-000006-server-e75fdb77c5677ea4","id":"server-e75fdb77c5677ea4:8","op":"set","prev":[],"record":"ip-producer","value":"meti"}	\N
9	server-e75fdb77c5677ea4:9	program	coordinator	name	\N	0001796215281428-000007-server-e75fdb77c5677ea4	{"author":"00000000-0000-0000-0000-000000000000","entity":"program","field":"name","hlc":"0001796215281428-000007-server-e75fdb77c5677ea4","id":"server-e75fdb77c5677ea4:9","op":"set","prev":[],"record":"coordinator","value":"産学官連携コーディネーター"}	\N
10	server-e75fdb77c5677ea4:10	program	coordinator	ministry	\N	0001796215281428-000008-server-e75fdb77c5677ea4	{"author":"00000000-0000-0000-0000-000000000000","entity":"program","field":"ministry","hlc":"0001796215281428-000008-server-e75fdb77c5677ea4","id":"server-e75fdb77c5677ea4:10","op":"set","prev":[],"record":"coordinator","value":"mext"}	\N
11	server-e75fdb77c5677ea4:11	program	cabinet-office	name	\N	0001796215281428-000009-server-e75fdb77c5677ea4	{"author":"00000000-0000-0000-0000-000000000000","entity":"program","field":"name","hlc":"0001796215281428-000009-server-e75fdb77c5677ea4","id":"server-e75fdb77c5677ea4:11","op":"set","prev":[],"record":"cabinet-office","value":"内閣府"}	\N
12	server-e75fdb77c5677ea4:12	program	cabinet-office	ministry	\N	0001796215281428-000010-server-e75fdb77c5677ea4	{"author":"00000000-0000-0000-0000-000000000000","entity":"program","field":"ministry","hlc":"0001796215281428-000010-server-e75fdb77c5677ea4","id":"server-e75fdb77c5677ea4:12","op":"set","prev":[],"record":"cabinet-office","value":"cao"}	\N
13	server-8d9952ae55f8d6ce:1	advisor	01a236c6-1794-76c0-8f6c-c72f3c80c205	name	\N	0001796215281558-000000-server-8d9952ae55f8d6ce	{"author":"00000000-0000-0000-0000-000000000000","entity":"advisor","field":"name","hlc":"0001796215281558-000000-server-8d9952ae55f8d6ce","id":"server-8d9952ae55f8d6ce:1","op":"set","prev":[],"record":"01a236c6-1794-76c0-8f6c-c72f3c80c205","value":"山田太郎"}	\N
14	server-8d9952ae55f8d6ce:2	advisor	01a236c6-1794-76c0-8f6c-c72f3c80c205	role	\N	0001796215281558-000001-server-8d9952ae55f8d6ce	{"author":"00000000-0000-0000-0000-000000000000","entity":"advisor","field":"role","hlc":"0001796215281558-000001-server-8d9952ae55f8d6ce","id":"server-8d9952ae55f8d6ce:2","op":"set","prev":[],"record":"01a236c6-1794-76c0-8f6c-c72f3c80c205","value":"business-producer"}	\N
15	server-8d9952ae55f8d6ce:3	advisor	01a236c6-1794-76c0-8f6c-c72f3c80c205	program	\N	0001796215281558-000002-server-8d9952ae55f8d6ce	{"author":"00000000-0000-0000-0000-000000000000","entity":"advisor","field":"program","hlc":"0001796215281558-000002-server-8d9952ae55f8d6ce","id":"server-8d9952ae55f8d6ce:3","op":"set","prev":[],"record":"01a236c6-1794-76c0-8f6c-c72f3c80c205","value":"business-production"}	\N
16	server-8d9952ae55f8d6ce:4	advisor	01a236c6-1794-76c0-8f6c-c72f3c80c205	prefecture	\N	0001796215281558-000003-server-8d9952ae55f8d6ce	{"author":"00000000-0000-0000-0000-000000000000","entity":"advisor","field":"prefecture","hlc":"0001796215281558-000003-server-8d9952ae55f8d6ce","id":"server-8d9952ae55f8d6ce:4","op":"set","prev":[],"record":"01a236c6-1794-76c0-8f6c-c72f3c80c205","value":"kanagawa"}	\N
17	server-8d9952ae55f8d6ce:5	advisor	01a236c6-1794-76c0-8f6c-c72f3c80c205	active	\N	0001796215281558-000004-server-8d9952ae55f8d6ce	{"author":"00000000-0000-0000-0000-000000000000","entity":"advisor","field":"active","hlc":"0001796215281558-000004-server-8d9952ae55f8d6ce","id":"server-8d9952ae55f8d6ce:5","op":"set","prev":[],"record":"01a236c6-1794-76c0-8f6c-c72f3c80c205","value":true}	\N
18	server-d73e79981d0395fb:1	advisor	01a236c6-17ed-7e25-9e90-7691cb975432	name	\N	0001796215281647-000000-server-d73e79981d0395fb	{"author":"00000000-0000-0000-0000-000000000000","entity":"advisor","field":"name","hlc":"0001796215281647-000000-server-d73e79981d0395fb","id":"server-d73e79981d0395fb:1","op":"set","prev":[],"record":"01a236c6-17ed-7e25-9e90-7691cb975432","value":"伊藤誠"}	\N
19	server-d73e79981d0395fb:2	advisor	01a236c6-17ed-7e25-9e90-7691cb975432	role	\N	0001796215281648-000000-server-d73e79981d0395fb	{"author":"00000000-0000-0000-0000-000000000000","entity":"advisor","field":"role","hlc":"0001796215281648-000000-server-d73e79981d0395fb","id":"server-d73e79981d0395fb:2","op":"set","prev":[],"record":"01a236c6-17ed-7e25-9e90-7691cb975432","value":"ip-advisor"}	\N
20	server-d73e79981d0395fb:3	advisor	01a236c6-17ed-7e25-9e90-7691cb975432	program	\N	0001796215281648-000001-server-d73e79981d0395fb	{"author":"00000000-0000-0000-0000-000000000000","entity":"advisor","field":"program","hlc":"0001796215281648-000001-server-d73e79981d0395fb","id":"server-d73e79981d0395fb:3","op":"set","prev":[],"record":"01a236c6-17ed-7e25-9e90-7691cb975432","value":"ip-advisor"}	\N
21	server-d73e79981d0395fb:4	advisor	01a236c6-17ed-7e25-9e90-7691cb975432	prefecture	\N	0001796215281648-000002-server-d73e79981d0395fb	{"author":"00000000-0000-0000-0000-000000000000","entity":"advisor","field":"prefecture","hlc":"0001796215281648-000002-server-d73e79981d0395fb","id":"server-d73e79981d0395fb:4","op":"set","prev":[],"record":"01a236c6-17ed-7e25-9e90-7691cb975432","value":"tokyo"}	\N
22	server-d73e79981d0395fb:5	advisor	01a236c6-17ed-7e25-9e90-7691cb975432	active	\N	0001796215281648-000003-server-d73e79981d0395fb	{"author":"00000000-0000-0000-0000-000000000000","entity":"advisor","field":"active","hlc":"0001796215281648-000003-server-d73e79981d0395fb","id":"server-d73e79981d0395fb:5","op":"set","prev":[],"record":"01a236c6-17ed-7e25-9e90-7691cb975432","value":true}	\N
23	d-c40253ddf9467d93:1	organization	01a236c6-19a2-7d60-8069-c3bc0ca63ee1	name	\N	0001796215282081-000000-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"organization","field":"name","hlc":"0001796215282081-000000-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:1","op":"set","prev":[],"record":"01a236c6-19a2-7d60-8069-c3bc0ca63ee1","value":"株式会社川崎精密製作所"}	\N
24	d-c40253ddf9467d93:2	organization	01a236c6-19a2-7d60-8069-c3bc0ca63ee1	kind	\N	0001796215282081-000001-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"organization","field":"kind","hlc":"0001796215282081-000001-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:2","op":"set","prev":[],"record":"01a236c6-19a2-7d60-8069-c3bc0ca63ee1","value":"sme"}	\N
25	d-c40253ddf9467d93:3	organization	01a236c6-19a2-7d60-8069-c3bc0ca63ee1	prefecture	\N	0001796215282081-000002-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"organization","field":"prefecture","hlc":"0001796215282081-000002-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:3","op":"set","prev":[],"record":"01a236c6-19a2-7d60-8069-c3bc0ca63ee1","value":"kanagawa"}	\N
26	d-c40253ddf9467d93:4	case	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	owner	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282139-000000-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"case","field":"owner","hlc":"0001796215282139-000000-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:4","op":"set","prev":[],"record":"01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96","value":"01a236c6-1794-76c0-8f6c-c72f3c80c205"}	\N
27	d-c40253ddf9467d93:5	case	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	program	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282139-000001-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"case","field":"program","hlc":"0001796215282139-000001-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:5","op":"set","prev":[],"record":"01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96","value":"business-production"}	\N
28	d-c40253ddf9467d93:6	case	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	level	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282139-000002-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"case","field":"level","hlc":"0001796215282139-000002-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:6","op":"set","prev":[],"record":"01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96","value":"confidential"}	\N
29	d-c40253ddf9467d93:7	case	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	title	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282139-000003-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"case","field":"title","hlc":"0001796215282139-000003-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:7","op":"set","prev":[],"record":"01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96","value":"川崎精密：複合部品の表面処理技術の導入"}	\N
30	d-c40253ddf9467d93:8	case	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	summary	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282139-000004-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"case","field":"summary","hlc":"0001796215282139-000004-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:8","op":"set","prev":[],"record":"01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96","value":"塗装はがれの課題に対し、大学シーズと開放特許の活用を検討する。"}	\N
31	d-c40253ddf9467d93:9	case	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	kind	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282139-000005-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"case","field":"kind","hlc":"0001796215282139-000005-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:9","op":"set","prev":[],"record":"01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96","value":"ip-business-matching"}	\N
32	d-c40253ddf9467d93:10	case	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	stage	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282139-000006-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"case","field":"stage","hlc":"0001796215282139-000006-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:10","op":"set","prev":[],"record":"01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96","value":"intake"}	\N
33	d-c40253ddf9467d93:11	case	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	organizations	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282139-000007-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"case","field":"organizations","hlc":"0001796215282139-000007-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:11","op":"add","prev":[],"record":"01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96","value":"01a236c6-19a2-7d60-8069-c3bc0ca63ee1"}	\N
34	d-c40253ddf9467d93:12	case	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	license_signed	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282139-000008-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"case","field":"license_signed","hlc":"0001796215282139-000008-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:12","op":"set","prev":[],"record":"01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96","value":false}	\N
35	d-c40253ddf9467d93:13	case	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	product_launched	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282139-000009-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"case","field":"product_launched","hlc":"0001796215282139-000009-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:13","op":"set","prev":[],"record":"01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96","value":false}	\N
36	d-c40253ddf9467d93:14	case	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	good_practice	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282139-000010-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"case","field":"good_practice","hlc":"0001796215282139-000010-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:14","op":"set","prev":[],"record":"01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96","value":false}	\N
37	d-c40253ddf9467d93:15	event	01a236c6-1a15-7694-bb8d-ede931433bc5	case	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282196-000000-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"event","field":"case","hlc":"0001796215282196-000000-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:15","op":"set","prev":[],"record":"01a236c6-1a15-7694-bb8d-ede931433bc5","value":"01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96"}	\N
38	d-c40253ddf9467d93:16	event	01a236c6-1a15-7694-bb8d-ede931433bc5	kind	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282196-000001-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"event","field":"kind","hlc":"0001796215282196-000001-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:16","op":"set","prev":[],"record":"01a236c6-1a15-7694-bb8d-ede931433bc5","value":"visit"}	\N
39	d-c40253ddf9467d93:17	event	01a236c6-1a15-7694-bb8d-ede931433bc5	date	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282196-000002-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"event","field":"date","hlc":"0001796215282196-000002-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:17","op":"set","prev":[],"record":"01a236c6-1a15-7694-bb8d-ede931433bc5","value":"2026-03-27"}	\N
40	d-c40253ddf9467d93:18	event	01a236c6-1a15-7694-bb8d-ede931433bc5	author	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282196-000003-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"event","field":"author","hlc":"0001796215282196-000003-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:18","op":"set","prev":[],"record":"01a236c6-1a15-7694-bb8d-ede931433bc5","value":"01a236c6-1794-76c0-8f6c-c72f3c80c205"}	\N
41	d-c40253ddf9467d93:19	event	01a236c6-1a15-7694-bb8d-ede931433bc5	body	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282196-000004-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"event","field":"body","hlc":"0001796215282196-000004-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:19","op":"set","prev":[],"record":"01a236c6-1a15-7694-bb8d-ede931433bc5","value":"年度末に工場を訪問。社長から塗装はがれの課題を聴取した。"}	\N
48	d-c40253ddf9467d93:26	case	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	participants	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282364-000006-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"case","field":"participants","hlc":"0001796215282364-000006-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:26","op":"add","prev":[],"record":"01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96","value":"01a236c6-17ed-7e25-9e90-7691cb975432"}	\N
42	d-c40253ddf9467d93:20	event	01a236c6-1abe-7dae-93cb-199f77c83e60	case	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282364-000000-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"event","field":"case","hlc":"0001796215282364-000000-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:20","op":"set","prev":[],"record":"01a236c6-1abe-7dae-93cb-199f77c83e60","value":"01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96"}	\N
43	d-c40253ddf9467d93:21	event	01a236c6-1abe-7dae-93cb-199f77c83e60	kind	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282364-000001-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"event","field":"kind","hlc":"0001796215282364-000001-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:21","op":"set","prev":[],"record":"01a236c6-1abe-7dae-93cb-199f77c83e60","value":"referral"}	\N
44	d-c40253ddf9467d93:22	event	01a236c6-1abe-7dae-93cb-199f77c83e60	date	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282364-000002-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"event","field":"date","hlc":"0001796215282364-000002-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:22","op":"set","prev":[],"record":"01a236c6-1abe-7dae-93cb-199f77c83e60","value":"2026-12-02"}	\N
45	d-c40253ddf9467d93:23	event	01a236c6-1abe-7dae-93cb-199f77c83e60	author	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282364-000003-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"event","field":"author","hlc":"0001796215282364-000003-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:23","op":"set","prev":[],"record":"01a236c6-1abe-7dae-93cb-199f77c83e60","value":"01a236c6-1794-76c0-8f6c-c72f3c80c205"}	\N
46	d-c40253ddf9467d93:24	event	01a236c6-1abe-7dae-93cb-199f77c83e60	body	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282364-000004-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"event","field":"body","hlc":"0001796215282364-000004-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:24","op":"set","prev":[],"record":"01a236c6-1abe-7dae-93cb-199f77c83e60","value":"知財戦略の助言をお願いします。"}	\N
47	d-c40253ddf9467d93:25	event	01a236c6-1abe-7dae-93cb-199f77c83e60	referred_to	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	0001796215282364-000005-d-c40253ddf9467d93	{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","entity":"event","field":"referred_to","hlc":"0001796215282364-000005-d-c40253ddf9467d93","id":"d-c40253ddf9467d93:25","op":"set","prev":[],"record":"01a236c6-1abe-7dae-93cb-199f77c83e60","value":"01a236c6-17ed-7e25-9e90-7691cb975432"}	\N
\.


--
-- Data for Name: device_access; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.device_access (device, case_id, generation, level) FROM stdin;
d-c40253ddf9467d93	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	1	2
d-06fec2efe29b893d	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	1	2
d-02fcc510412f6fa7	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	1	2
\.


--
-- Data for Name: devices; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.devices (id, advisor, name, token_hash, enrolled_at, revoked_at, generation, app_version, last_seen_at, pulled_seq) FROM stdin;
d-c40253ddf9467d93	01a236c6-1794-76c0-8f6c-c72f3c80c205	yamada-thinkpad	f916dcd251924ef9c24744b695adbc85391c520d2d9b480c20139a8b8b4184aa	1796215281791	\N	1	0.1.0	1796215282464	48
d-06fec2efe29b893d	01a236c6-17ed-7e25-9e90-7691cb975432	ito-thinkpad	416e0e4716b3d0dc7cae7f15f2e094965d22b227f09dc6dbc738ac4013a6bc2b	1796215281972	\N	1	0.1.0	1796215282532	48
d-02fcc510412f6fa7	01a236c6-17ed-7e25-9e90-7691cb975432	lost-laptop	6000b91922daa9f5e9cd97462a3bc0b05aea94de8ee235efbfcf311e6e847eaa	1796215282666	1796215282823	1	0.1.0	1796215282719	48
\.


--
-- Data for Name: enrollment_codes; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.enrollment_codes (code_hash, advisor, created_at, expires_at, used_at, device) FROM stdin;
297c3f5aa5b39020294120f9c6f2e0f1016a47b6850625a04d9266846ad6a303	01a236c6-1794-76c0-8f6c-c72f3c80c205	1796215281739	1796474481739	1796215281791	d-c40253ddf9467d93
76fc447cb008e82d03ca0fc9f863987a9047680b78addb00ee076eee855ff208	01a236c6-17ed-7e25-9e90-7691cb975432	1796215281925	1796474481925	1796215281972	d-06fec2efe29b893d
4db7f6a77bc642e7c3c626540776d2e44da42ad327762aa67c20aef59a731afe	01a236c6-17ed-7e25-9e90-7691cb975432	1796215282620	1796474482620	1796215282666	d-02fcc510412f6fa7
\.


--
-- Data for Name: records; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.records (entity, id, state) FROM stdin;
program	coordinator	{"entity":"program","id":"coordinator","registers":[{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-e75fdb77c5677ea4:10","hlc":"0001796215281428-000008-server-e75fdb77c5677ea4","prev":[],"value":"mext"}],"register":{"field":"ministry"}},{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-e75fdb77c5677ea4:9","hlc":"0001796215281428-000007-server-e75fdb77c5677ea4","prev":[],"value":"産学官連携コーディネーター"}],"register":{"field":"name"}}],"superseded":[{"hlcs":[],"register":{"field":"ministry"}},{"hlcs":[],"register":{"field":"name"}}]}
program	ip-producer	{"entity":"program","id":"ip-producer","registers":[{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-e75fdb77c5677ea4:8","hlc":"0001796215281428-000006-server-e75fdb77c5677ea4","prev":[],"value":"meti"}],"register":{"field":"ministry"}},{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-e75fdb77c5677ea4:7","hlc":"0001796215281428-000005-server-e75fdb77c5677ea4","prev":[],"value":"知的財産プロデューサー（INPIT）"}],"register":{"field":"name"}}],"superseded":[{"hlcs":[],"register":{"field":"ministry"}},{"hlcs":[],"register":{"field":"name"}}]}
program	business-production	{"entity":"program","id":"business-production","registers":[{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-e75fdb77c5677ea4:2","hlc":"0001796215281428-000000-server-e75fdb77c5677ea4","prev":[],"value":"meti"}],"register":{"field":"ministry"}},{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-e75fdb77c5677ea4:1","hlc":"0001796215281427-000000-server-e75fdb77c5677ea4","prev":[],"value":"事業プロデュース"}],"register":{"field":"name"}}],"superseded":[{"hlcs":[],"register":{"field":"ministry"}},{"hlcs":[],"register":{"field":"name"}}]}
program	matching-planner	{"entity":"program","id":"matching-planner","registers":[{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-e75fdb77c5677ea4:4","hlc":"0001796215281428-000002-server-e75fdb77c5677ea4","prev":[],"value":"mext"}],"register":{"field":"ministry"}},{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-e75fdb77c5677ea4:3","hlc":"0001796215281428-000001-server-e75fdb77c5677ea4","prev":[],"value":"マッチングプランナー（JST）"}],"register":{"field":"name"}}],"superseded":[{"hlcs":[],"register":{"field":"ministry"}},{"hlcs":[],"register":{"field":"name"}}]}
program	cabinet-office	{"entity":"program","id":"cabinet-office","registers":[{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-e75fdb77c5677ea4:12","hlc":"0001796215281428-000010-server-e75fdb77c5677ea4","prev":[],"value":"cao"}],"register":{"field":"ministry"}},{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-e75fdb77c5677ea4:11","hlc":"0001796215281428-000009-server-e75fdb77c5677ea4","prev":[],"value":"内閣府"}],"register":{"field":"name"}}],"superseded":[{"hlcs":[],"register":{"field":"ministry"}},{"hlcs":[],"register":{"field":"name"}}]}
program	ip-advisor	{"entity":"program","id":"ip-advisor","registers":[{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-e75fdb77c5677ea4:6","hlc":"0001796215281428-000004-server-e75fdb77c5677ea4","prev":[],"value":"meti"}],"register":{"field":"ministry"}},{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-e75fdb77c5677ea4:5","hlc":"0001796215281428-000003-server-e75fdb77c5677ea4","prev":[],"value":"産学連携知的財産アドバイザー（INPIT）"}],"register":{"field":"name"}}],"superseded":[{"hlcs":[],"register":{"field":"ministry"}},{"hlcs":[],"register":{"field":"name"}}]}
advisor	01a236c6-1794-76c0-8f6c-c72f3c80c205	{"entity":"advisor","id":"01a236c6-1794-76c0-8f6c-c72f3c80c205","registers":[{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-8d9952ae55f8d6ce:5","hlc":"0001796215281558-000004-server-8d9952ae55f8d6ce","prev":[],"value":true}],"register":{"field":"active"}},{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-8d9952ae55f8d6ce:1","hlc":"0001796215281558-000000-server-8d9952ae55f8d6ce","prev":[],"value":"山田太郎"}],"register":{"field":"name"}},{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-8d9952ae55f8d6ce:4","hlc":"0001796215281558-000003-server-8d9952ae55f8d6ce","prev":[],"value":"kanagawa"}],"register":{"field":"prefecture"}},{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-8d9952ae55f8d6ce:3","hlc":"0001796215281558-000002-server-8d9952ae55f8d6ce","prev":[],"value":"business-production"}],"register":{"field":"program"}},{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-8d9952ae55f8d6ce:2","hlc":"0001796215281558-000001-server-8d9952ae55f8d6ce","prev":[],"value":"business-producer"}],"register":{"field":"role"}}],"superseded":[{"hlcs":[],"register":{"field":"active"}},{"hlcs":[],"register":{"field":"name"}},{"hlcs":[],"register":{"field":"prefecture"}},{"hlcs":[],"register":{"field":"program"}},{"hlcs":[],"register":{"field":"role"}}]}
advisor	01a236c6-17ed-7e25-9e90-7691cb975432	{"entity":"advisor","id":"01a236c6-17ed-7e25-9e90-7691cb975432","registers":[{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-d73e79981d0395fb:5","hlc":"0001796215281648-000003-server-d73e79981d0395fb","prev":[],"value":true}],"register":{"field":"active"}},{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-d73e79981d0395fb:1","hlc":"0001796215281647-000000-server-d73e79981d0395fb","prev":[],"value":"伊藤誠"}],"register":{"field":"name"}},{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-d73e79981d0395fb:4","hlc":"0001796215281648-000002-server-d73e79981d0395fb","prev":[],"value":"tokyo"}],"register":{"field":"prefecture"}},{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-d73e79981d0395fb:3","hlc":"0001796215281648-000001-server-d73e79981d0395fb","prev":[],"value":"ip-advisor"}],"register":{"field":"program"}},{"heads":[{"author":"00000000-0000-0000-0000-000000000000","change":"server-d73e79981d0395fb:2","hlc":"0001796215281648-000000-server-d73e79981d0395fb","prev":[],"value":"ip-advisor"}],"register":{"field":"role"}}],"superseded":[{"hlcs":[],"register":{"field":"active"}},{"hlcs":[],"register":{"field":"name"}},{"hlcs":[],"register":{"field":"prefecture"}},{"hlcs":[],"register":{"field":"program"}},{"hlcs":[],"register":{"field":"role"}}]}
organization	01a236c6-19a2-7d60-8069-c3bc0ca63ee1	{"entity":"organization","id":"01a236c6-19a2-7d60-8069-c3bc0ca63ee1","registers":[{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:2","hlc":"0001796215282081-000001-d-c40253ddf9467d93","prev":[],"value":"sme"}],"register":{"field":"kind"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:1","hlc":"0001796215282081-000000-d-c40253ddf9467d93","prev":[],"value":"株式会社川崎精密製作所"}],"register":{"field":"name"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:3","hlc":"0001796215282081-000002-d-c40253ddf9467d93","prev":[],"value":"kanagawa"}],"register":{"field":"prefecture"}}],"superseded":[{"hlcs":[],"register":{"field":"kind"}},{"hlcs":[],"register":{"field":"name"}},{"hlcs":[],"register":{"field":"prefecture"}}]}
event	01a236c6-1a15-7694-bb8d-ede931433bc5	{"entity":"event","id":"01a236c6-1a15-7694-bb8d-ede931433bc5","registers":[{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:18","hlc":"0001796215282196-000003-d-c40253ddf9467d93","prev":[],"value":"01a236c6-1794-76c0-8f6c-c72f3c80c205"}],"register":{"field":"author"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:19","hlc":"0001796215282196-000004-d-c40253ddf9467d93","prev":[],"value":"年度末に工場を訪問。社長から塗装はがれの課題を聴取した。"}],"register":{"field":"body"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:15","hlc":"0001796215282196-000000-d-c40253ddf9467d93","prev":[],"value":"01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96"}],"register":{"field":"case"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:17","hlc":"0001796215282196-000002-d-c40253ddf9467d93","prev":[],"value":"2026-03-27"}],"register":{"field":"date"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:16","hlc":"0001796215282196-000001-d-c40253ddf9467d93","prev":[],"value":"visit"}],"register":{"field":"kind"}}],"superseded":[{"hlcs":[],"register":{"field":"author"}},{"hlcs":[],"register":{"field":"body"}},{"hlcs":[],"register":{"field":"case"}},{"hlcs":[],"register":{"field":"date"}},{"hlcs":[],"register":{"field":"kind"}}]}
case	01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96	{"entity":"case","id":"01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96","registers":[{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:14","hlc":"0001796215282139-000010-d-c40253ddf9467d93","prev":[],"value":false}],"register":{"field":"good_practice"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:9","hlc":"0001796215282139-000005-d-c40253ddf9467d93","prev":[],"value":"ip-business-matching"}],"register":{"field":"kind"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:6","hlc":"0001796215282139-000002-d-c40253ddf9467d93","prev":[],"value":"confidential"}],"register":{"field":"level"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:12","hlc":"0001796215282139-000008-d-c40253ddf9467d93","prev":[],"value":false}],"register":{"field":"license_signed"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:11","hlc":"0001796215282139-000007-d-c40253ddf9467d93","prev":[],"value":true}],"register":{"element":"01a236c6-19a2-7d60-8069-c3bc0ca63ee1","field":"organizations"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:4","hlc":"0001796215282139-000000-d-c40253ddf9467d93","prev":[],"value":"01a236c6-1794-76c0-8f6c-c72f3c80c205"}],"register":{"field":"owner"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:26","hlc":"0001796215282364-000006-d-c40253ddf9467d93","prev":[],"value":true}],"register":{"element":"01a236c6-17ed-7e25-9e90-7691cb975432","field":"participants"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:13","hlc":"0001796215282139-000009-d-c40253ddf9467d93","prev":[],"value":false}],"register":{"field":"product_launched"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:5","hlc":"0001796215282139-000001-d-c40253ddf9467d93","prev":[],"value":"business-production"}],"register":{"field":"program"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:10","hlc":"0001796215282139-000006-d-c40253ddf9467d93","prev":[],"value":"intake"}],"register":{"field":"stage"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:8","hlc":"0001796215282139-000004-d-c40253ddf9467d93","prev":[],"value":"塗装はがれの課題に対し、大学シーズと開放特許の活用を検討する。"}],"register":{"field":"summary"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:7","hlc":"0001796215282139-000003-d-c40253ddf9467d93","prev":[],"value":"川崎精密：複合部品の表面処理技術の導入"}],"register":{"field":"title"}}],"superseded":[{"hlcs":[],"register":{"field":"good_practice"}},{"hlcs":[],"register":{"field":"kind"}},{"hlcs":[],"register":{"field":"level"}},{"hlcs":[],"register":{"field":"license_signed"}},{"hlcs":[],"register":{"element":"01a236c6-19a2-7d60-8069-c3bc0ca63ee1","field":"organizations"}},{"hlcs":[],"register":{"field":"owner"}},{"hlcs":[],"register":{"element":"01a236c6-17ed-7e25-9e90-7691cb975432","field":"participants"}},{"hlcs":[],"register":{"field":"product_launched"}},{"hlcs":[],"register":{"field":"program"}},{"hlcs":[],"register":{"field":"stage"}},{"hlcs":[],"register":{"field":"summary"}},{"hlcs":[],"register":{"field":"title"}}]}
event	01a236c6-1abe-7dae-93cb-199f77c83e60	{"entity":"event","id":"01a236c6-1abe-7dae-93cb-199f77c83e60","registers":[{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:23","hlc":"0001796215282364-000003-d-c40253ddf9467d93","prev":[],"value":"01a236c6-1794-76c0-8f6c-c72f3c80c205"}],"register":{"field":"author"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:24","hlc":"0001796215282364-000004-d-c40253ddf9467d93","prev":[],"value":"知財戦略の助言をお願いします。"}],"register":{"field":"body"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:20","hlc":"0001796215282364-000000-d-c40253ddf9467d93","prev":[],"value":"01a236c6-19dc-7e5a-8a58-6ae3bf0e2d96"}],"register":{"field":"case"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:22","hlc":"0001796215282364-000002-d-c40253ddf9467d93","prev":[],"value":"2026-12-02"}],"register":{"field":"date"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:21","hlc":"0001796215282364-000001-d-c40253ddf9467d93","prev":[],"value":"referral"}],"register":{"field":"kind"}},{"heads":[{"author":"01a236c6-1794-76c0-8f6c-c72f3c80c205","change":"d-c40253ddf9467d93:25","hlc":"0001796215282364-000005-d-c40253ddf9467d93","prev":[],"value":"01a236c6-17ed-7e25-9e90-7691cb975432"}],"register":{"field":"referred_to"}}],"superseded":[{"hlcs":[],"register":{"field":"author"}},{"hlcs":[],"register":{"field":"body"}},{"hlcs":[],"register":{"field":"case"}},{"hlcs":[],"register":{"field":"date"}},{"hlcs":[],"register":{"field":"kind"}},{"hlcs":[],"register":{"field":"referred_to"}}]}
\.


--
-- Name: changes changes_change_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.changes
    ADD CONSTRAINT changes_change_id_key UNIQUE (change_id);


--
-- Name: changes changes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.changes
    ADD CONSTRAINT changes_pkey PRIMARY KEY (seq);


--
-- Name: device_access device_access_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.device_access
    ADD CONSTRAINT device_access_pkey PRIMARY KEY (device, case_id, generation);


--
-- Name: devices devices_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.devices
    ADD CONSTRAINT devices_pkey PRIMARY KEY (id);


--
-- Name: devices devices_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.devices
    ADD CONSTRAINT devices_token_hash_key UNIQUE (token_hash);


--
-- Name: enrollment_codes enrollment_codes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.enrollment_codes
    ADD CONSTRAINT enrollment_codes_pkey PRIMARY KEY (code_hash);


--
-- Name: records records_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.records
    ADD CONSTRAINT records_pkey PRIMARY KEY (entity, id);


--
-- Name: changes_by_case; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX changes_by_case ON public.changes USING btree (case_id, seq);


--
-- Name: changes_by_hlc; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX changes_by_hlc ON public.changes USING btree (hlc);


--
-- Name: changes_by_record; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX changes_by_record ON public.changes USING btree (entity, record, seq);


--
-- Name: device_access_by_generation; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX device_access_by_generation ON public.device_access USING btree (device, generation);


--
-- Name: records_by_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX records_by_id ON public.records USING btree (id);


--
-- PostgreSQL database dump complete
--

\unrestrict NWDtIqaeATqVr4Lklg40lvt43zgOxosVIPx0rL7QR7372Ei7kYSAgMOTu4FgzZS

